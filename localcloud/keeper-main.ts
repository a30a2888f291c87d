// The keeper: `node dist/localcloud/keeper-main.js --dir <dir>`, the one detached process a
// deploy starts. It does nothing but run the supervisor and start it again when it dies (crash,
// SIGKILL, out of memory), within a fraction of a second; the new supervisor adopts the gateway
// and replaces the old workers (supervisor.ts, restore). A supervisor that exits 0 was stopped
// (destroy): the keeper then exits too. SIGTERM to the keeper stops the supervisor, then itself.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { keeperFile, localDir, supervisorLog } from './local-paths.js';
import { minimalEnv } from './process-env.js';
import { shopMarker, startTimeOf } from './shop-processes.js';

const at = process.argv.indexOf('--dir');
const dir = localDir(at >= 0 ? process.argv[at + 1] : undefined);
const entry = join(import.meta.dirname, 'supervisor-main.js');
let child: ChildProcess | undefined;
let stopping = false;
let restarts = 0;
let startedAt = 0;

const line = (msg: string) => process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), name: 'saleday-keeper', pid: process.pid, msg })}\n`);

function startSupervisor(): void {
  if (stopping) return void finish();
  const log = openSync(supervisorLog(dir), 'a', 0o600);
  startedAt = Date.now();
  child = spawn(process.execPath, [entry, '--dir', dir], { env: minimalEnv(shopMarker(dir, 'supervisor')), stdio: ['ignore', log, log] });
  closeSync(log);
  child.once('exit', (code, signal) => {
    child = undefined;
    if (stopping || code === 0) return void finish();
    // Quickly at first; a supervisor that keeps dying is started again less often.
    if (Date.now() - startedAt > 30_000) restarts = 0;
    const delay = Math.min(5000, 50 * 2 ** Math.min(7, restarts++));
    line(`the supervisor exited (${signal ? `killed by ${signal}` : `exit code ${code}`}); starting it again in ${delay} ms`);
    setTimeout(startSupervisor, delay);
  });
}

async function finish(): Promise<void> {
  await rm(keeperFile(dir), { force: true });
  process.exit(0);
}

process.on('SIGTERM', () => {
  stopping = true;
  if (child) child.kill('SIGTERM');
  else void finish();
});
process.on('SIGINT', () => undefined);
process.on('SIGHUP', () => undefined);

await writeFile(keeperFile(dir), `${JSON.stringify({ pid: process.pid, startTime: startTimeOf(process.pid) })}\n`, { mode: 0o600 });
startSupervisor();
