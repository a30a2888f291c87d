// The local fleet's probe: the local target writes .saleday/local/state.json (fleet sizes and
// workers) and appends one line per scaling activity to .saleday/local/activity.jsonl; both are
// the contract between the local fleet and this harness (their types: environment/local-state.ts).
import { readFile } from 'node:fs/promises';
import pidusage from 'pidusage';
import { join } from 'node:path';
import { LOCAL_ACTIVITY_FILE, LOCAL_STATE_FILE, type LocalState } from '../../../environment/index.js';
import type { FleetSize, ScalingActivity, ScalingProbe, TargetMetrics } from './probe.js';

/** the shortest window a CPU figure is computed over: a few hundred clock ticks */
const MIN_CPU_WINDOW_MS = 500;

export class LocalStateError extends Error {}

export async function readLocalState(dir: string): Promise<LocalState> {
  const file = join(dir, LOCAL_STATE_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new LocalStateError(`${file} does not exist: the local shop is not running (bring it up with ./playbooks/deploy.mjs)`);
    throw new LocalStateError(`${file} cannot be read: ${(err as Error).message}`);
  }
  let state: LocalState;
  try {
    state = JSON.parse(text) as LocalState;
  } catch {
    throw new LocalStateError(`${file} is not JSON (is the local fleet writing it right now? try again)`);
  }
  if (typeof state?.gatewayUrl !== 'string' || !state.services || typeof state.services !== 'object') {
    throw new LocalStateError(`${file} has no gatewayUrl or services: it does not look like the local target's state`);
  }
  return state;
}

export class LocalProbe implements ScalingProbe {
  readonly kind = 'local' as const;
  readonly intervalMs = 1000;
  private last: Record<string, FleetSize> = {};
  /** each worker's cumulative CPU time at the last sample, for the CPU since then */
  private cpuTimes = new Map<number, { at: number; cpuMs: number }>();

  constructor(private readonly dir: string) {}

  describe(): string {
    return `local fleet (${join(this.dir, LOCAL_STATE_FILE)})`;
  }

  async sample(): Promise<Record<string, FleetSize>> {
    let state: LocalState;
    try {
      state = await readLocalState(this.dir);
    } catch (err) {
      // The fleet rewrites the file while scaling; a torn read keeps the last good sample.
      if (Object.keys(this.last).length) return this.last;
      throw err;
    }
    const cpu = await this.cpu(state);
    const out: Record<string, FleetSize> = {};
    for (const [name, s] of Object.entries(state.services)) {
      const inService = Array.isArray(s.workers) ? s.workers.filter((w) => w.state === 'in-service').length : s.size;
      out[name] = { inService, desired: s.desired, min: s.min, max: s.max, ...(cpu[name] === undefined ? {} : { cpu: cpu[name] }) };
    }
    this.last = out;
    return out;
  }

  /** Average CPU per service of its in-service workers since the last sample (as the local fleet measures it: from outside the process). */
  private async cpu(state: LocalState): Promise<Record<string, number>> {
    const pids = Object.values(state.services).flatMap((s) => (Array.isArray(s.workers) ? s.workers.filter((w) => w.state === 'in-service' && Number.isInteger(w.pid)).map((w) => w.pid) : []));
    // Read from outside the process as the local fleet does (localcloud/cpu-metric.ts; the harness
    // imports nothing of localcloud, so these few lines stand here too).
    const now = new Map<number, { at: number; cpuMs: number }>();
    const settled = await Promise.allSettled(pids.map((pid) => pidusage(pid)));
    settled.forEach((r, i) => r.status === 'fulfilled' && now.set(pids[i]!, { at: r.value.timestamp, cpuMs: r.value.ctime }));
    const out: Record<string, number> = {};
    for (const [name, s] of Object.entries(state.services)) {
      const usages = (Array.isArray(s.workers) ? s.workers : []).flatMap((w) => {
        const [a, b] = [this.cpuTimes.get(w.pid), now.get(w.pid)];
        if (!a || !b) return [];
        // CPU time advances in clock ticks (10 ms): over a shorter window the figure is noise
        // (3 ms apart, one tick reads 333%), so keep the older baseline until the window is long enough.
        if (b.at - a.at < MIN_CPU_WINDOW_MS) {
          now.set(w.pid, a);
          return [];
        }
        return [(Math.max(0, b.cpuMs - a.cpuMs) / (b.at - a.at)) * 100];
      });
      if (usages.length) out[name] = Number((usages.reduce((x, y) => x + y, 0) / usages.length).toFixed(1));
    }
    this.cpuTimes = now;
    if (settled.some((r) => r.status === 'rejected')) pidusage.clear();
    return out;
  }

  async activities(since: Date, until: Date): Promise<ScalingActivity[]> {
    let text: string;
    try {
      text = await readFile(join(this.dir, LOCAL_ACTIVITY_FILE), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const out: ScalingActivity[] = [];
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      let a: Partial<ScalingActivity>;
      try {
        a = JSON.parse(line) as Partial<ScalingActivity>;
      } catch {
        continue; // a line being written right now
      }
      const time = Date.parse(String(a.time));
      if (!Number.isFinite(time) || time < since.getTime() || time > until.getTime() || typeof a.service !== 'string') continue;
      out.push({ time: new Date(time).toISOString(), service: a.service, from: Number(a.from), to: Number(a.to), cause: String(a.cause ?? '') });
    }
    return out;
  }

  metrics(): Promise<TargetMetrics | undefined> {
    return Promise.resolve(undefined);
  }
}
