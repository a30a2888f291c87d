// The emulator suite talks to a real server: stopping moto_server in the middle of a deploy makes
// the run fail, with the connection error said in one line (exit 2, no stack trace), as an
// unreachable AWS endpoint would. Its own moto, since this file stops it.
import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EMULATOR_INVENTORY } from '../helpers/emulator-playbooks.js';
import { startMoto } from '../helpers/moto.js';
import { playbookRoot } from '../helpers/playbook-root.js';
import { ROOT, waitUntil } from '../helpers/processes.js';

const moto = await startMoto(t);
const root = await playbookRoot(t);
const home = await mkdtemp(join(tmpdir(), 'saleday-emulator-home-'));
t.teardown(() => rm(home, { recursive: true, force: true }));

t.test('stopping moto_server during deploy --yes fails the run with the connection error', async (t) => {
  const child = spawn(process.execPath, [root.script('deploy'), '-i', EMULATOR_INVENTORY, '--yes', '--skip-tags', 'smoke'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: home, NODE_NO_WARNINGS: '1', ...moto.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));

  // Stop the emulator once the run talks to CloudFormation about its first stack.
  await waitUntil(() => Promise.resolve(/\[stack network\] creating change set/.test(stdout)), 'the first change set', 120_000);
  const ok = (stdout.match(/^ok: /gm) ?? []).length;
  await moto.stop();
  const code = await exited;

  t.equal(code, 2, 'exit 2', { output: code === 2 ? undefined : `${stdout.slice(-3000)}\n${stderr.slice(-2000)}` });
  t.ok(ok > 0, 'tasks succeeded against the emulator before it stopped');
  t.match(stdout, new RegExp(`failed: \\[stack network\\] .*ECONNREFUSED 127\\.0\\.0\\.1:${new URL(moto.endpoint).port}`), 'the failed task names the refused connection');
  t.match(stdout, /PLAY RECAP[\s\S]*failed=1/, 'the recap counts the failure');
  t.notMatch(`${stdout}\n${stderr}`, /^\s+at .+:\d+:\d+\)?$/m, 'no stack trace');
});
