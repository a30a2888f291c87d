// The local probe reads the local target's contract files: state.json (fleet sizes, workers and
// their states) and activity.jsonl (one scaling activity per line); the CPU of the workers in
// service is read from their processes.
import { spawn } from 'node:child_process';
import { appendFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { LocalProbe, readLocalState } from '../../loadtest/lib/probes/local.js';
import { tempDir, until } from './helpers.js';

const state = (workers: string[]) => ({
  environment: 'local',
  gatewayUrl: 'http://127.0.0.1:8080',
  updatedAt: '2025-11-28T09:00:00.000Z',
  services: {
    catalog: { min: 1, max: 3, desired: 3, size: workers.length, workers: workers.map((s, i) => ({ pid: 100 + i, port: 4000 + i, state: s })), cpuTarget: 70, artifact: 'x' },
  },
});

t.test('sizes count the workers in service, not those starting or draining', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'state.json'), JSON.stringify(state(['in-service', 'starting', 'in-service', 'draining'])));
  const probe = new LocalProbe(dir);
  t.same(await probe.sample(), { catalog: { inService: 2, desired: 3, min: 1, max: 3 } });
  // a torn read while the fleet rewrites the file keeps the last good sample
  await writeFile(join(dir, 'state.json'), '{"environment": "lo');
  t.same(await probe.sample(), { catalog: { inService: 2, desired: 3, min: 1, max: 3 } });
});

t.test('activities inside the run window, skipping lines being written', async (t) => {
  const dir = await tempDir(t);
  const line = (time: string, from: number, to: number) => `${JSON.stringify({ time, service: 'catalog', from, to, cause: 'cpu above target' })}\n`;
  await appendFile(join(dir, 'activity.jsonl'), line('2025-11-28T08:59:00.000Z', 1, 2) + line('2025-11-28T09:00:30.000Z', 2, 3) + line('2025-11-28T09:02:00.000Z', 3, 1) + '{"time": "2025-11-28T09:0');
  const list = await new LocalProbe(dir).activities(new Date('2025-11-28T09:00:00Z'), new Date('2025-11-28T09:05:00Z'));
  t.same(list.map((a) => [a.time, a.from, a.to]), [['2025-11-28T09:00:30.000Z', 2, 3], ['2025-11-28T09:02:00.000Z', 3, 1]]);
  t.same(await new LocalProbe(await tempDir(t)).activities(new Date(0), new Date()), [], 'no activity file yet: no activities');
});

t.test('a missing or foreign state file says what to do', async (t) => {
  const dir = await tempDir(t);
  await t.rejects(readLocalState(dir), { message: /state\.json does not exist: the local shop is not running \(bring it up with \.\/playbooks\/deploy\.mjs\)/ });
  await writeFile(join(dir, 'state.json'), '{"hello": 1}');
  await t.rejects(readLocalState(dir), { message: /has no gatewayUrl or services/ });
  await t.rejects(new LocalProbe(dir).sample(), { message: /has no gatewayUrl/ });
});

t.test('each service’s CPU per in-service worker, from the processes between two samples', async (t) => {
  // A worker that spins: a real process whose CPU time grows.
  const busy = spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' });
  t.teardown(() => busy.kill('SIGKILL'));
  const dir = await tempDir(t);
  const s = state(['in-service']);
  s.services.catalog.workers[0]!.pid = busy.pid!;
  await writeFile(join(dir, 'state.json'), JSON.stringify(s));
  const probe = new LocalProbe(dir);
  t.equal((await probe.sample()).catalog!.cpu, undefined, 'no figure from one sample');
  let cpu: number | undefined;
  await until(async () => {
    cpu = (await probe.sample()).catalog!.cpu;
    return cpu !== undefined && cpu > 5;
  }, 20_000, 'a CPU figure for the spinning worker');
  t.ok(cpu! > 5 && cpu! <= 105, `the spinning worker used ${cpu}% of a core (the machine is shared)`);
  // Two samples a few ms apart differ by a clock tick or none: no figure rather than 0% or 333%.
  t.equal((await probe.sample()).catalog!.cpu, undefined, 'no figure from a window shorter than the ticks can measure');
});
