// The supervisor as a process: it outlives the shell that deployed, a second ensureSupervisor
// finds it instead of starting another, its keeper starts it again when it is killed (the new one
// takes the fleet over), and stopFleet leaves nothing behind whatever happened to it (every
// process of the shop carries the shop's marker).
import t from 'tap';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ensureSupervisor, fleetState, stopFleet, supervisorEntry } from '../../localcloud/control-client.js';
import { SHOP_DIR_VAR, SHOP_ROLE_VAR, shopProcesses } from '../../localcloud/shop-processes.js';
import { FAST_TUNING, alive, allPids, send, settledAt, waitFor, workerService } from './fleet-harness.js';

const dir = await mkdtemp(join(tmpdir(), 'sdf-'));
// Synchronous last resort if the test process dies: end whatever supervisor runs for the folder.
const onExit = () => {
  try {
    const pid = (JSON.parse(readFileSync(join(dir, 'keeper.json'), 'utf8')) as { pid: number }).pid;
    process.kill(-pid, 'SIGTERM');
  } catch {
    // none
  }
};
process.once('exit', onExit);
t.teardown(async () => {
  process.off('exit', onExit);
  await stopFleet(dir);
  await rm(dir, { recursive: true, force: true });
});
const clientModule = pathToFileURL(join(supervisorEntry(), '..', 'control-client.js')).href;
const spec = { gateway: { port: 0 }, tuning: FAST_TUNING, services: { users: workerService({ min: 2, max: 2, desired: 2 }, { env: { DECLARED_SETTING: 'from-the-spec' } }) } };
// What a deploying shell may hold: none of it may reach the processes the shop starts.
const SECRET_URL = 'mysql://root:secret-in-the-shell@127.0.0.1:3306/saleday';

// tap's process tracking adds itself to every spawn under test, whatever env the caller gives.
const tapHook = (k: string) => k === 'NODE_OPTIONS' || k.startsWith('_TAPJS_');

/** A running process's environment, from /proc. */
function environOf(pid: number): Record<string, string> {
  const env: Record<string, string> = {};
  for (const entry of readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0')) {
    const i = entry.indexOf('=');
    if (i > 0) env[entry.slice(0, i)] = entry.slice(i + 1);
  }
  return env;
}

t.test('a deploy from a process that exits leaves the shop running', async (t) => {
  // What deploy.mjs does, in a process of its own that ends when the deploy is done.
  const script = `
    import { ensureSupervisor, applyFleet } from ${JSON.stringify(clientModule)};
    await ensureSupervisor(${JSON.stringify(dir)});
    const r = await applyFleet(${JSON.stringify(spec)}, { dir: ${JSON.stringify(dir)} });
    console.log(JSON.stringify(r));`;
  const deployer = spawn(process.execPath, ['--input-type=module', '-e', script], {
    env: { ...process.env, MYSQL_URL: SECRET_URL, AWS_SECRET_ACCESS_KEY: 'shell-aws-secret' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  deployer.stdout.on('data', (c: Buffer) => (out += c.toString()));
  const code = await new Promise<number | null>((r) => deployer.once('exit', r));
  t.equal(code, 0, 'the deploying process finished');
  const result = JSON.parse(out) as { gatewayUrl: string; services: Record<string, string> };
  t.same(result.services, { users: 'created' });
  const state = await fleetState(dir);
  t.ok(state && settledAt(state, 'users', 2), 'the fleet still runs after its deployer exited');
  t.equal((await send(result.gatewayUrl, 'GET', '/api/users/whoami')).status, 200);

  const again = await ensureSupervisor(dir);
  t.equal(again.started, false, 'the running supervisor is found, not started twice');

  const supervisorEnv = environOf(again.pid);
  t.equal(supervisorEnv.PATH, process.env.PATH, 'the supervisor gets PATH');
  t.same(Object.keys(supervisorEnv).filter((k) => !tapHook(k) && !['PATH', 'HOME', 'TMPDIR', 'TZ', 'LANG', 'SYSTEMROOT', SHOP_DIR_VAR, SHOP_ROLE_VAR].includes(k)), [], 'and nothing beyond the minimal environment and the shop marker');
  t.equal(supervisorEnv[SHOP_DIR_VAR], dir, 'marked with its folder');
  t.equal(supervisorEnv[SHOP_ROLE_VAR], 'supervisor', 'and its role');
  t.equal(supervisorEnv.MYSQL_URL, undefined, 'no MYSQL_URL');
  t.notOk(/secret-in-the-shell|shell-aws-secret/.test(JSON.stringify(supervisorEnv)), 'no secret of the deploying shell reached the supervisor');
  for (const pid of allPids(state!)) {
    const env = environOf(pid);
    t.equal(env.DECLARED_SETTING, 'from-the-spec', `worker ${pid} gets what its service declares`);
    t.ok(env.PORT && env.HOST, `worker ${pid} gets PORT and HOST`);
    t.equal(env[SHOP_ROLE_VAR], 'worker', `worker ${pid} is marked as one`);
    t.equal(env.MYSQL_URL, undefined, `worker ${pid}: no MYSQL_URL`);
    t.notOk(/secret-in-the-shell|shell-aws-secret/.test(JSON.stringify(env)), `no secret of the deploying shell reached worker ${pid}`);
  }
});

t.test('a SIGKILLed supervisor is started again and takes the fleet over; stop then leaves no process', async (t) => {
  const first = await ensureSupervisor(dir);
  const before = (await fleetState(dir))!;
  const workers = allPids(before);
  t.equal(workers.length, 2);
  process.kill(first.pid, 'SIGKILL');
  await waitFor('the supervisor gone', () => alive([first.pid]).length === 0);
  t.equal((await send(before.gatewayUrl, 'GET', '/api/users/whoami')).status, 200, 'the gateway kept serving without it');
  const healed = await waitFor('a new supervisor with the group back at 2 workers of its own', async () => {
    const s = await fleetState(dir);
    return s && settledAt(s, 'users', 2) && alive(workers).length === 0 ? s : undefined;
  }, 30_000);
  t.equal(healed.gatewayUrl, before.gatewayUrl, 'same URL');
  t.notOk(allPids(healed).some((p) => workers.includes(p)), 'the old workers were replaced and stopped, none orphaned');
  const again = await ensureSupervisor(dir);
  t.not(again.pid, first.pid, 'a new supervisor answers');
  t.equal(again.started, false, 'started by the keeper, not by ensureSupervisor');

  // Killed again, then stopped before anyone waits for the new one: nothing is left.
  const all = [again.pid, again.keeperPid!, ...allPids(healed)];
  process.kill(again.pid, 'SIGKILL');
  const stopped = await stopFleet(dir);
  t.equal(stopped.stopped, true);
  t.same(alive(all), [], 'keeper, supervisors and workers all ended');
  t.same(shopProcesses(dir), [], 'no process of the shop is left (gateway and static origin included)');
  t.same(await stopFleet(dir), { stopped: false, pids: [] }, 'a second stop finds nothing');
});
