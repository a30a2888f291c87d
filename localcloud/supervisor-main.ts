// The supervisor process: `node dist/localcloud/supervisor-main.js --dir <dir>`, run (and started
// again when it dies) by the keeper (keeper-main.ts) that ensureSupervisor starts. It serves the
// control API on the folder's socket, restores the last applied fleet after a restart, and on
// SIGTERM or POST /stop stops every worker and the gateway before it exits 0. A crash leaves the
// gateway and the workers serving for the next supervisor to take over.
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { pino } from 'pino';
import { startControlServer } from './control-server.js';
import { controlSocket, localDir, supervisorFile } from './local-paths.js';
import { Supervisor } from './supervisor.js';

const at = process.argv.indexOf('--dir');
const dir = localDir(at >= 0 ? process.argv[at + 1] : undefined);
const log = pino({ name: 'saleday-fleet', base: { pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime });

function otherSupervisor(): number | undefined {
  if (!existsSync(supervisorFile(dir))) return undefined;
  try {
    const { pid } = JSON.parse(readFileSync(supervisorFile(dir), 'utf8')) as { pid: number };
    if (pid === process.pid) return undefined;
    process.kill(pid, 0);
    return pid;
  } catch {
    return undefined;
  }
}

const socket = controlSocket(dir);
// Claim the folder: one supervisor per folder (a stale record of a dead one is replaced).
const other = otherSupervisor();
if (other !== undefined) {
  process.stderr.write(`saleday-fleet: a supervisor (pid ${other}) already runs for ${dir}\n`);
  process.exit(1);
}
await mkdir(dir, { recursive: true });
await rm(supervisorFile(dir), { force: true });
try {
  await writeFile(supervisorFile(dir), `${JSON.stringify({ pid: process.pid, socket, startedAt: new Date().toISOString() })}\n`, { flag: 'wx' });
} catch {
  process.stderr.write(`saleday-fleet: another supervisor is starting for ${dir}\n`);
  process.exit(1);
}
const supervisor = new Supervisor(dir, log);
let exiting = false;
const exit = async (code: number) => {
  if (exiting) return;
  exiting = true;
  await rm(socket, { force: true });
  await rm(supervisorFile(dir), { force: true });
  log.info({ code }, 'supervisor stopped');
  process.exit(code);
};
const stopAndExit = (why: string, code: number) => {
  log.info({ why }, 'stopping the fleet');
  supervisor.stop().then(
    () => void exit(code),
    (err: Error) => {
      log.error({ err: err.message }, 'error while stopping');
      void exit(1);
    },
  );
};

process.on('SIGTERM', () => stopAndExit('SIGTERM', 0));
process.on('SIGINT', () => stopAndExit('SIGINT', 0));
process.on('SIGHUP', () => undefined);
process.on('uncaughtException', (err) => {
  // The gateway and the workers keep serving; the keeper starts a supervisor that takes them over.
  log.fatal({ err: err.message, stack: err.stack }, 'uncaught exception');
  void exit(1);
});

await startControlServer(supervisor, socket, () => void exit(0));
log.info({ dir, socket }, 'supervisor ready');
supervisor.restore().then(
  (outcome) => log.info({ outcome }, 'restore'),
  (err: Error) => log.error({ err: err.message }, 'could not restore the fleet'),
);
