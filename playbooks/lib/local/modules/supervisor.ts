// The supervisor module: the local cloud's detached supervisor for the local folder, started
// unless one already answers there (it outlives this run, like a cloud outlives a deploy).
import { type TaskContext, type TaskOutcome, changed, ok } from '../../runner.js';
import type { FleetApi } from '../fleet-api.js';

export async function ensureSupervisor(api: Pick<FleetApi, 'state' | 'ensureSupervisor'>, ctx: TaskContext): Promise<TaskOutcome> {
  if (ctx.check) return (await api.state()) ? ok('running') : changed('would start the supervisor');
  const s = await api.ensureSupervisor();
  return s.started ? changed(`started (pid ${s.pid})`) : ok(`running (pid ${s.pid})`);
}
