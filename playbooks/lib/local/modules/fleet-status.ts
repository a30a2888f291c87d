// The fleet status module (status.mjs): each group's sizes and workers, the latest scaling
// activities, the private database server and the shared store, printed; the outcome says where the shop answers.
import { formatFleetStatus } from '../../../../localcloud/index.js';
import { type TaskContext, type TaskOutcome, ok } from '../../runner.js';
import type { FleetApi } from '../fleet-api.js';
import type { MysqlServerApi } from '../mysql-server.js';
import type { RedisServerApi } from '../redis-server.js';
import { sharedStoreLine } from './shared-store.js';

export interface FleetStatusApi {
  fleet: Pick<FleetApi, 'state' | 'savedState' | 'activity'>;
  mysql: Pick<MysqlServerApi, 'privateServer' | 'privateServerPid'>;
  redis?: Pick<RedisServerApi, 'privatePid' | 'choice'>;
}

export async function fleetStatus(api: FleetStatusApi, ctx: TaskContext): Promise<TaskOutcome> {
  const state = await api.fleet.state().catch(() => undefined);
  ctx.print(formatFleetStatus(state, await api.fleet.activity(10)));
  const db = await api.mysql.privateServer();
  const dbPid = api.mysql.privateServerPid();
  if (db) ctx.print(`\nprivate database server: ${dbPid ? `running (pid ${dbPid}) on 127.0.0.1:${db.port}` : 'stopped'}`);
  const store = api.redis ? await sharedStoreLine({ redis: api.redis }) : undefined;
  if (store) ctx.print(`${db ? '' : '\n'}${store}`);
  if (!state) {
    const stale = await api.fleet.savedState();
    return ok(stale ? 'not running (a stale state file remains; destroy cleans it up)' : 'not running');
  }
  const sizes = Object.entries(state.services).map(([s, x]) => `${s} ${x.size}`).join(', ');
  return ok(`${state.gatewayUrl}: ${sizes}`);
}
