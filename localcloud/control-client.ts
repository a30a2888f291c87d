// What deploy.mjs, status.mjs and destroy.mjs call: start the keeper (which runs the supervisor)
// if it is not running, apply a fleet spec (with progress), read the state, stop everything. All
// talk to the supervisor over its control socket; stopFleet also ends every process of the shop
// that is left, whatever happened to the supervisor (found by their marker: shop-processes.ts).
import { execFileSync, spawn } from 'node:child_process';
import { openSync, closeSync, existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LOCAL_STATE_FILE, type LocalState } from '../environment/index.js';
import type { FleetSpec } from './fleet-spec.js';
import { controlSocket, keeperFile, localDir, supervisorFile, supervisorLog } from './local-paths.js';
import { minimalEnv } from './process-env.js';
import { endProcesses, isSameProcess, shopMarker, shopProcesses, startTimeOf } from './shop-processes.js';
import type { ApplyResult } from './supervisor.js';

export class FleetError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FleetError';
  }
}

export interface SupervisorInfo {
  pid: number;
  /** The keeper, which starts the supervisor again when it dies; the process group of the shop. */
  keeperPid?: number;
  /** false when one was already running for this folder. */
  started: boolean;
  socket: string;
}

/** The compiled entry point, also when this module runs from its TypeScript source (tests). */
export function supervisorEntry(): string {
  return compiled('supervisor-main.js');
}

function compiled(name: string): string {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.js')) return join(dirname(here), name);
  const root = here.slice(0, here.lastIndexOf(`${sep}localcloud${sep}`));
  return join(root, 'dist', 'localcloud', name);
}

/**
 * Starts the keeper for `dir` (it runs the supervisor) unless a supervisor already answers there.
 * When a keeper runs but its supervisor does not answer yet (it is being started again after a
 * crash), waits for it.
 */
export async function ensureSupervisor(dir?: string, opts: { timeoutMs?: number } = {}): Promise<SupervisorInfo> {
  const d = localDir(dir);
  const socket = controlSocket(d);
  const timeoutMs = opts.timeoutMs ?? 20_000;
  const keeper = runningKeeper(d);
  const running = await runningSupervisor(d);
  if (running !== undefined && (await answers(socket))) return { pid: running, keeperPid: keeper ?? -1, started: false, socket };
  if (keeper !== undefined) {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const pid = await runningSupervisor(d);
      if (pid !== undefined && (await answers(socket))) return { pid, keeperPid: keeper, started: false, socket };
      if (runningKeeper(d) === undefined) break;
      await pause(50);
    }
    throw new FleetError(`the supervisor for ${d} does not answer on ${socket}; see ${supervisorLog(d)}, run destroy and deploy again`);
  }
  if (running !== undefined) throw new FleetError(`the supervisor (pid ${running}) for ${d} does not answer on ${socket}; run destroy and deploy again`);

  await mkdir(d, { recursive: true, mode: 0o700 });
  const logFd = openSync(supervisorLog(d), 'a', 0o600);
  const entry = compiled('keeper-main.js');
  if (!existsSync(entry)) throw new FleetError(`${entry} is missing; run npm run build first`);
  // Not the deploying shell's environment (a MYSQL_URL with its password, AWS keys): the keeper and
  // the supervisor get their folder as an argument and the shop's marker, and hand workers only
  // what their spec declares.
  const child = spawn(process.execPath, [entry, '--dir', d], { detached: true, env: minimalEnv(shopMarker(d, 'keeper')), stdio: ['ignore', logFd, logFd] });
  closeSync(logFd);
  let exited: string | undefined;
  child.once('exit', (code, signal) => (exited = signal ? `killed by ${signal}` : `exit code ${code}`));
  child.unref();
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (exited) throw new FleetError(`the supervisor stopped at start (${exited}): ${await logTail(d)}`);
    const pid = await runningSupervisor(d);
    if (pid !== undefined && (await answers(socket))) return { pid, keeperPid: child.pid ?? -1, started: true, socket };
    await pause(50);
  }
  throw new FleetError(`the supervisor did not answer within ${timeoutMs / 1000} s; see ${supervisorLog(d)}`);
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
 * Stops everything: asks the supervisor to drain and stop every worker and the gateway, then ends
 * every process of the shop that is left (a supervisor that crashed or hangs, its keeper, the
 * gateway, workers it orphaned), each found by its marker and checked by its start time before it
 * is signalled, and waits until they are gone. Returns the workers' pids that were stopped.
 */
export async function stopFleet(dir?: string, opts: { timeoutMs?: number } = {}): Promise<{ stopped: boolean; pids: number[] }> {
  const d = localDir(dir);
  const socket = controlSocket(d);
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const pids = new Set<number>();
  let stopped = false;
  if ((await runningSupervisor(d)) !== undefined && (await answers(socket))) {
    const res = await call(socket, 'POST', '/stop').catch(() => undefined);
    if (res?.status === 200) for (const pid of (JSON.parse(res.body) as { pids: number[] }).pids) pids.add(pid);
    stopped = res?.status === 200;
    // The supervisor exits 0 once it answered, and its keeper with it.
    if (stopped) await waitUntil(() => shopProcesses(d, ['keeper', 'supervisor']).length === 0, 10_000);
  }
  // Whatever is left: the keeper first (SIGTERM: it starts nothing again and stops its
  // supervisor, which drains what it knows), then the gateway and any worker.
  const left = shopProcesses(d);
  if (left.length) stopped = true;
  for (const p of left) if (p.role === 'worker') pids.add(p.pid);
  await endProcesses(left.filter((p) => p.role === 'keeper'), Math.min(timeoutMs, 15_000));
  await endProcesses(shopProcesses(d, ['supervisor']), Math.min(timeoutMs, 15_000));
  await endProcesses(shopProcesses(d), timeoutMs);
  await rm(supervisorFile(d), { force: true });
  await rm(keeperFile(d), { force: true });
  await rm(socket, { force: true });
  await rm(join(d, LOCAL_STATE_FILE), { force: true });
  await rm(join(d, 'applied-spec.json'), { force: true });
  return { stopped, pids: [...pids] };
}

/** True while the process runs (a zombie, exited but not reaped yet, is not running). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  return process.platform !== 'linux' || startTimeOf(pid) !== '';
}

async function waitUntil(done: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) return false;
    await pause(50);
  }
  return true;
}

/** The keeper of `dir` if it runs (its record checked by start time). */
function runningKeeper(dir: string): number | undefined {
  try {
    const { pid, startTime } = JSON.parse(readFileSync(keeperFile(dir), 'utf8')) as { pid: number; startTime: string };
    return isSameProcess(pid, startTime) ? pid : undefined;
  } catch {
    return undefined;
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
