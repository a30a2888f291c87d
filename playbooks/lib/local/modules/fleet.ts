// The fleet module: apply the fleet spec to the local cloud, the way a stack update applies a
// template (a group whose artifact or policy changed is rolled or resized, the rest untouched,
// the same spec twice changes nothing), and stop the whole fleet on destroy. The outcome's data
// is the gateway URL.
import type { FleetSpec } from '../../../../localcloud/index.js';
import { type TaskContext, type TaskOutcome, changed, ok } from '../../runner.js';
import type { FleetApi } from '../fleet-api.js';

export interface FleetArgs {
  spec: FleetSpec;
}

export async function applyFleetSpec(args: FleetArgs, api: Pick<FleetApi, 'state' | 'apply'>, ctx: TaskContext): Promise<TaskOutcome> {
  const { spec } = args;
  if (ctx.check) {
    const running = Object.keys((await api.state())?.services ?? {});
    return changed(`would apply ${Object.keys(spec.services).length} groups behind ${spec.gateway.port ? `port ${spec.gateway.port}` : 'a free port'}${running.length ? ` (running: ${running.join(', ')})` : ''}`);
  }
  const result = await api.apply(spec, (service, message) => ctx.progress(`${service}: ${message}`));
  const { gatewayUrl } = result;
  const touched = Object.entries(result.services).filter(([, o]) => o !== 'unchanged');
  const summary = touched.length ? touched.map(([s, o]) => `${s} ${o}`).join(', ') : 'every group unchanged';
  return result.changed ? changed(`${summary}; gateway ${result.gateway} at ${gatewayUrl}`, { gatewayUrl }) : ok(`${summary}; gateway at ${gatewayUrl}`, { gatewayUrl });
}

/** destroy: drains and stops every worker, the gateway and the supervisor. */
export async function stopFleet(api: Pick<FleetApi, 'state' | 'stop'>, ctx: TaskContext): Promise<TaskOutcome> {
  if (ctx.check) return (await api.state()) ? changed('would stop every worker, the gateway and the supervisor') : ok('nothing runs');
  ctx.progress('draining and stopping every worker');
  const r = await api.stop();
  return r.stopped ? changed(`stopped ${r.pids.length} worker(s), the gateway and the supervisor`) : ok('nothing was running');
}
