// The group's CPU metric: per worker, cumulative CPU time sampled over wall time (read from the
// outside, as CloudWatch reads an instance, so any program can be a worker), averaged over the
// evaluation window across the workers that have a full window of samples.
import pidusage from 'pidusage';

export interface CpuSample {
  /** ms since epoch */
  at: number;
  /** cumulative user + system CPU time of the process, ms */
  cpuMs: number;
}

/** Cumulative CPU time per pid; pids that are gone are left out. */
export async function readCpuTimes(pids: readonly number[]): Promise<Map<number, CpuSample>> {
  const out = new Map<number, CpuSample>();
  const settled = await Promise.allSettled(pids.map((pid) => pidusage(pid)));
  settled.forEach((r, i) => {
    const pid = pids[i];
    if (r.status === 'fulfilled' && pid !== undefined) out.set(pid, { at: r.value.timestamp, cpuMs: r.value.ctime });
  });
  return out;
}

/** Drops pidusage's per-pid bookkeeping (open /proc files) for pids that are gone. */
export function forgetCpuTimes(): void {
  pidusage.clear();
}

export class CpuHistory {
  private readonly samples = new Map<string, CpuSample[]>();

  record(workerId: string, sample: CpuSample, keepMs: number): void {
    let list = this.samples.get(workerId);
    if (!list) this.samples.set(workerId, (list = []));
    list.push(sample);
    // Keep one sample older than the window so a full window can always be measured.
    while (list.length > 2 && (list[1]?.at ?? Infinity) <= sample.at - keepMs) list.shift();
  }

  forget(workerId: string): void {
    this.samples.delete(workerId);
  }

  /**
   * CPU percent (of one core) of one worker over the window ending at its latest sample, or
   * undefined when its samples do not yet span `windowMs` (minus `slackMs` for timer jitter).
   */
  usage(workerId: string, windowMs: number, slackMs: number): number | undefined {
    const list = this.samples.get(workerId);
    const last = list?.[list.length - 1];
    if (!list || !last) return undefined;
    // The newest sample at least windowMs - slackMs before the last one.
    let first: CpuSample | undefined;
    for (const s of list) {
      if (s.at <= last.at - windowMs + slackMs) first = s;
      else break;
    }
    if (!first || last.at <= first.at) return undefined;
    return (Math.max(0, last.cpuMs - first.cpuMs) / (last.at - first.at)) * 100;
  }

  /** The average over the given workers that have a full window, and how many those are. */
  groupAverage(workerIds: readonly string[], windowMs: number, slackMs: number): { metric: number | undefined; contributing: string[] } {
    const contributing: string[] = [];
    let sum = 0;
    for (const id of workerIds) {
      const u = this.usage(id, windowMs, slackMs);
      if (u === undefined) continue;
      contributing.push(id);
      sum += u;
    }
    return { metric: contributing.length ? sum / contributing.length : undefined, contributing };
  }
}
