// The supervisor as a process: it outlives the shell that deployed, a second ensureSupervisor
// finds it instead of starting another, and stopFleet still leaves nothing behind when the
// supervisor itself was killed (its workers are ended through its process group).
import t from 'tap';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ensureSupervisor, fleetState, stopFleet, supervisorEntry } from '../../localcloud/control-client.js';
import { FAST_TUNING, alive, allPids, send, settledAt, waitFor, workerService } from './fleet-harness.js';

const dir = await mkdtemp(join(tmpdir(), 'sdf-'));
// Synchronous last resort if the test process dies: end whatever supervisor runs for the folder.
const onExit = () => {
  try {
    const pid = (JSON.parse(readFileSync(join(dir, 'supervisor.json'), 'utf8')) as { pid: number }).pid;
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
  t.same(Object.keys(supervisorEnv).filter((k) => !tapHook(k) && !['PATH', 'HOME', 'TMPDIR', 'TZ', 'LANG', 'SYSTEMROOT'].includes(k)), [], 'and nothing beyond the minimal environment');
  t.equal(supervisorEnv.MYSQL_URL, undefined, 'no MYSQL_URL');
  t.notOk(JSON.stringify(supervisorEnv).includes('secret'), 'no secret of the deploying shell reached the supervisor');
  for (const pid of allPids(state!)) {
    const env = environOf(pid);
    t.equal(env.DECLARED_SETTING, 'from-the-spec', `worker ${pid} gets what its service declares`);
    t.ok(env.PORT && env.HOST, `worker ${pid} gets PORT and HOST`);
    t.equal(env.MYSQL_URL, undefined, `worker ${pid}: no MYSQL_URL`);
    t.notOk(JSON.stringify(env).includes('secret'), `no secret of the deploying shell reached worker ${pid}`);
  }
});

t.test('stop after the supervisor was SIGKILLed still leaves no process', async (t) => {
  const again = await ensureSupervisor(dir);
  const workers = allPids((await fleetState(dir))!);
  t.equal(workers.length, 2);
  process.kill(again.pid, 'SIGKILL');
  await waitFor('the supervisor gone', () => alive([again.pid]).length === 0);
  t.equal(alive(workers).length, 2, 'its workers were orphaned');
  t.equal(await fleetState(dir), undefined, 'nothing answers');
  const stopped = await stopFleet(dir);
  t.equal(stopped.stopped, true);
  t.same(alive(workers), [], 'the orphaned workers were ended');
  t.same(await stopFleet(dir), { stopped: false, pids: [] }, 'a second stop finds nothing');
});
