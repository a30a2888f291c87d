// Shared pieces of the local fleet's tests: a supervisor in a throwaway folder (stopped at
// teardown), polling for a condition instead of sleeping, and a bounded closed-loop load that
// records every request's outcome and which worker answered it.
import { Agent, request } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { applyFleet, ensureSupervisor, fleetState, stopFleet, isAlive } from '../../localcloud/control-client.js';
import type { FleetSpec, ScalingPolicy } from '../../localcloud/fleet-spec.js';
import type { LocalActivity, LocalState } from '../../environment/index.js';
import { readActivity } from '../../localcloud/state-file.js';

export interface TestTap {
  teardown(fn: () => unknown): void;
  comment(...args: unknown[]): void;
}

export const fixture = (name: string) => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));

export function workerService(policy: Partial<ScalingPolicy>, extra: Partial<FleetSpec['services'][string]> = {}): FleetSpec['services'][string] {
  return {
    program: fixture('fleet-worker.mjs'),
    artifact: 'v1',
    policy: { min: 1, max: 1, desired: 1, cpuTarget: 50, warmupSeconds: 1, cooldownSeconds: 2, evaluationSeconds: 2, ...policy },
    ...extra,
  };
}

export const FAST_TUNING = { healthIntervalMs: 200, unhealthyThreshold: 2, healthyThreshold: 2, sampleIntervalMs: 250, drainSeconds: 10, startSeconds: 30 };

export interface TestFleet {
  dir: string;
  supervisorPid: number;
  apply(spec: FleetSpec): ReturnType<typeof applyFleet>;
  state(): Promise<LocalState>;
  activity(): Promise<LocalActivity[]>;
  stop(): ReturnType<typeof stopFleet>;
}

export async function startFleet(t: TestTap): Promise<TestFleet> {
  // Short path: the control socket lives in it.
  const dir = await mkdtemp(join(tmpdir(), 'sdf-'));
  const sup = await ensureSupervisor(dir);
  // If the test process dies before its teardown, take the supervisor and its workers along.
  const onExit = () => {
    try {
      process.kill(-(sup.keeperPid ?? sup.pid), 'SIGTERM');
    } catch {
      // already stopped
    }
  };
  process.once('exit', onExit);
  t.teardown(async () => {
    process.off('exit', onExit);
    await stopFleet(dir);
    await rm(dir, { recursive: true, force: true });
  });
  return {
    dir,
    supervisorPid: sup.pid,
    apply: (spec) => applyFleet(spec, { dir }),
    state: async () => {
      const s = await fleetState(dir);
      if (!s) throw new Error('the supervisor does not answer');
      return s;
    },
    activity: () => readActivity(dir),
    stop: () => stopFleet(dir),
  };
}

/** Polls `probe` until it returns something truthy; fails with `what` after `timeoutMs`. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false | null> | T | undefined | false | null, timeoutMs = 45_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface Outcome {
  method: string;
  path: string;
  startedAt: number;
  endedAt: number;
  status: number;
  error?: string;
  pid?: number;
  version?: string;
  code?: string;
}

/** `concurrency` loops, each sending the next request when the previous answered, until stopped. */
export class Load {
  readonly outcomes: Outcome[] = [];
  private running = false;
  private loops: Promise<void>[] = [];
  private readonly agent: Agent;

  constructor(
    private readonly baseUrl: string,
    private readonly next: (i: number) => { method: string; path: string; body?: string; headers?: Record<string, string> },
    private readonly concurrency: number,
    private readonly maxRequests = 20_000,
    /** A pause after each answer, so a long run stays within maxRequests. */
    private readonly paceMs = 0,
  ) {
    this.agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  }

  start(): this {
    this.running = true;
    let n = 0;
    this.loops = Array.from({ length: this.concurrency }, async () => {
      while (this.running && n < this.maxRequests) {
        const r = this.next(n++);
        this.outcomes.push(await send(this.baseUrl, r.method, r.path, r.body, this.agent, r.headers));
        if (this.paceMs) await new Promise((resolve) => setTimeout(resolve, this.paceMs));
      }
    });
    return this;
  }

  async stop(): Promise<Outcome[]> {
    this.running = false;
    await Promise.all(this.loops);
    this.agent.destroy();
    return this.outcomes;
  }

  failures(): Outcome[] {
    return this.outcomes.filter((o) => o.status < 200 || o.status > 299);
  }
}

export function send(baseUrl: string, method: string, path: string, body?: string, agent?: Agent, headers: Record<string, string> = {}): Promise<Outcome> {
  const startedAt = Date.now();
  return new Promise((resolve) => {
    const req = request(new URL(path, baseUrl), { method, agent, headers: { ...(body !== undefined ? { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) } : {}), ...headers } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => {
        let parsed: { pid?: number; version?: string; code?: string } = {};
        try {
          parsed = JSON.parse(text) as typeof parsed;
        } catch {
          // not JSON
        }
        resolve({ method, path, startedAt, endedAt: Date.now(), status: res.statusCode ?? 0, pid: parsed.pid, version: parsed.version, code: parsed.code });
      });
      res.on('error', (err) => resolve({ method, path, startedAt, endedAt: Date.now(), status: 0, error: err.message }));
    });
    req.on('error', (err) => resolve({ method, path, startedAt, endedAt: Date.now(), status: 0, error: err.message }));
    req.end(body);
  });
}

export function allPids(state: LocalState): number[] {
  return Object.values(state.services).flatMap((s) => s.workers.map((w) => w.pid));
}

export function alive(pids: number[]): number[] {
  return pids.filter(isAlive);
}

/** A group at exactly `n` workers, all in service. */
export function settledAt(state: LocalState, service: string, n: number): boolean {
  const s = state.services[service];
  return !!s && s.desired === n && s.size === n && s.workers.length === n && s.workers.every((w) => w.state === 'in-service');
}
