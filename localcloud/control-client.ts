// What deploy.mjs, status.mjs and destroy.mjs call: start the supervisor if it is not running,
// apply a fleet spec (with progress), read the state, stop everything. All talk to the
// supervisor over its control socket; stopFleet also cleans up after a supervisor that died.
import { execFileSync, spawn } from 'node:child_process';
import { openSync, closeSync, existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LOCAL_STATE_FILE, type LocalState } from '../environment/index.js';
import type { FleetSpec } from './fleet-spec.js';
import { controlSocket, localDir, supervisorFile, supervisorLog } from './local-paths.js';
import { minimalEnv } from './process-env.js';
import { readState } from './state-file.js';
import type { ApplyResult } from './supervisor.js';

export class FleetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FleetError';
  }
}

export interface SupervisorInfo {
  pid: number;
  /** false when one was already running for this folder. */
  started: boolean;
  socket: string;
}

/** The compiled entry point, also when this module runs from its TypeScript source (tests). */
export function supervisorEntry(): string {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.js')) return join(dirname(here), 'supervisor-main.js');
  const root = here.slice(0, here.lastIndexOf(`${sep}localcloud${sep}`));
  return join(root, 'dist', 'localcloud', 'supervisor-main.js');
}

/** Starts the detached supervisor for `dir` unless one already answers there. */
export async function ensureSupervisor(dir?: string, opts: { timeoutMs?: number } = {}): Promise<SupervisorInfo> {
  const d = localDir(dir);
  const socket = controlSocket(d);
  const running = await runningSupervisor(d);
  if (running !== undefined && (await answers(socket))) return { pid: running, started: false, socket };
  if (running !== undefined) throw new FleetError(`the supervisor (pid ${running}) for ${d} does not answer on ${socket}; run destroy and deploy again`);

  await mkdir(d, { recursive: true, mode: 0o700 });
  const logFd = openSync(supervisorLog(d), 'a', 0o600);
  const entry = supervisorEntry();
  if (!existsSync(entry)) throw new FleetError(`${entry} is missing; run npm run build first`);
  // Not the deploying shell's environment (a MYSQL_URL with its password, AWS keys): the supervisor
  // gets its folder as an argument and hands workers only what their spec declares.
  const child = spawn(process.execPath, [entry, '--dir', d], { detached: true, env: minimalEnv(), stdio: ['ignore', logFd, logFd] });
  closeSync(logFd);
  let exited: string | undefined;
  child.once('exit', (code, signal) => (exited = signal ? `killed by ${signal}` : `exit code ${code}`));
  child.unref();
  const deadline = Date.now() + (opts.timeoutMs ?? 20_000);
  while (Date.now() < deadline) {
    if (exited) throw new FleetError(`the supervisor stopped at start (${exited}): ${await logTail(d)}`);
    if (await answers(socket)) return { pid: child.pid ?? -1, started: true, socket };
    await pause(50);
  }
  throw new FleetError(`the supervisor did not answer within ${(opts.timeoutMs ?? 20_000) / 1000} s; see ${supervisorLog(d)}`);
}

/**
 * Applies a fleet spec and resolves when every group is at its desired capacity (or rolled).
 * `onProgress` hears each step (launches, drains, scaling activities) as it happens.
 */
export async function applyFleet(spec: FleetSpec, opts: { dir?: string; onProgress?: (service: string, message: string) => void } = {}): Promise<ApplyResult> {
  const socket = controlSocket(localDir(opts.dir));
  const res = await call(socket, 'POST', '/apply', JSON.stringify(spec), (line) => {
    const o = JSON.parse(line) as { progress?: { service: string; message: string } };
    if (o.progress) opts.onProgress?.(o.progress.service, o.progress.message);
  });
  if (res.status !== 200) throw new FleetError((JSON.parse(res.body) as { message: string }).message);
  const last = res.body.trim().split('\n').pop() ?? '';
  const o = JSON.parse(last) as { result?: ApplyResult; error?: { message: string } };
  if (o.error) throw new FleetError(o.error.message);
  if (!o.result) throw new FleetError('the supervisor ended the apply without a result');
  return o.result;
}

/** The live state from the supervisor, or undefined when none runs for this folder. */
export async function fleetState(dir?: string): Promise<LocalState | undefined> {
  const socket = controlSocket(localDir(dir));
  if (!(await answers(socket))) return undefined;
  const res = await call(socket, 'GET', '/state');
  return JSON.parse(res.body) as LocalState;
}

/**
 * Stops everything: drains and stops every worker, the gateway and the supervisor, and waits
 * until those processes are gone. A supervisor that does not answer (crashed, hung) is ended
 * with its whole process group, which holds its workers. Returns the pids that were stopped.
 */
export async function stopFleet(dir?: string, opts: { timeoutMs?: number } = {}): Promise<{ stopped: boolean; pids: number[] }> {
  const d = localDir(dir);
  const socket = controlSocket(d);
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const recorded = await recordedSupervisor(d);
  const supervisorPid = await runningSupervisor(d);
  const known = (await readState(d).catch(() => undefined))?.services ?? {};
  const pids = new Set(Object.values(known).flatMap((s) => s.workers.map((w) => w.pid)));
  let stopped = false;
  if (supervisorPid !== undefined && (await answers(socket))) {
    const res = await call(socket, 'POST', '/stop').catch(() => undefined);
    if (res?.status === 200) for (const pid of (JSON.parse(res.body) as { pids: number[] }).pids) pids.add(pid);
    stopped = true;
  }
  if (recorded !== undefined) {
    // Workers share the supervisor's process group; if it died or hangs, end the group.
    const members = [...pids].filter((pid) => isAlive(pid) && processGroupOf(pid) === recorded);
    if (!stopped && (supervisorPid !== undefined || members.length > 0)) {
      signalGroup(recorded, 'SIGTERM');
      stopped = true;
    }
    const watch = [...(supervisorPid !== undefined ? [supervisorPid] : []), ...members, ...pids];
    if (!(await waitGone(watch, timeoutMs))) {
      signalGroup(recorded, 'SIGKILL');
      await waitGone(watch, 5000);
    }
  }
  await rm(supervisorFile(d), { force: true });
  await rm(socket, { force: true });
  await rm(join(d, LOCAL_STATE_FILE), { force: true });
  return { stopped, pids: [...pids] };
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function recordedSupervisor(dir: string): Promise<number | undefined> {
  try {
    const { pid } = JSON.parse(await readFile(supervisorFile(dir), 'utf8')) as { pid: number };
    return Number.isInteger(pid) && pid > 1 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** The recorded supervisor if it is alive and is a supervisor (not a recycled pid). */
async function runningSupervisor(dir: string): Promise<number | undefined> {
  const pid = await recordedSupervisor(dir);
  return pid !== undefined && isAlive(pid) && commandOf(pid).includes('supervisor-main') ? pid : undefined;
}

function commandOf(pid: number): string {
  try {
    if (process.platform === 'linux') return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
    return execFileSync('ps', ['-o', 'command=', '-p', String(pid)], { encoding: 'utf8' });
  } catch {
    return '';
  }
}

/** The process group of a pid (so a recycled pid is never taken for one of ours). */
function processGroupOf(pid: number): number | undefined {
  try {
    if (process.platform === 'linux') {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]);
    }
    return Number(execFileSync('ps', ['-o', 'pgid=', '-p', String(pid)], { encoding: 'utf8' }).trim());
  } catch {
    return undefined;
  }
}

async function waitGone(pids: number[], timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (pids.some(isAlive)) {
    if (Date.now() > deadline) return false;
    await pause(50);
  }
  return true;
}

function signalGroup(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pid, sig);
  } catch {
    signal(pid, sig);
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}

async function answers(socket: string): Promise<boolean> {
  if (!existsSync(socket)) return false;
  return call(socket, 'GET', '/state', undefined, undefined, 2000).then(
    (r) => r.status === 200,
    () => false,
  );
}

async function logTail(dir: string): Promise<string> {
  const text = await readFile(supervisorLog(dir), 'utf8').catch(() => '');
  return text.trim().split('\n').slice(-3).join(' | ') || 'no output';
}

function pause(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function call(socketPath: string, method: string, path: string, body?: string, onLine?: (line: string) => void, timeoutMs = 0): Promise<{ status: number; body: string }> {
  return new Promise((resolvePromise, reject) => {
    const req = request({ socketPath, method, path, headers: body ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } : {} }, (res) => {
      let text = '';
      let pending = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
        if (!onLine) return;
        pending += chunk;
        let nl;
        while ((nl = pending.indexOf('\n')) >= 0) {
          const line = pending.slice(0, nl);
          pending = pending.slice(nl + 1);
          if (line.trim()) onLine(line);
        }
      });
      res.on('end', () => resolvePromise({ status: res.statusCode ?? 0, body: text }));
      res.on('error', reject);
    });
    if (timeoutMs) req.setTimeout(timeoutMs, () => req.destroy(new Error('timed out')));
    req.on('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'ECONNREFUSED' || err.code === 'ENOENT' ? new FleetError('the local fleet is not running (no supervisor answers); run deploy first') : err),
    );
    req.end(body);
  });
}
