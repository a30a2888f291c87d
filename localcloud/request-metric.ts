// The group's request metric, the local ALBRequestCountPerTarget: the gateway's cumulative count
// of requests sent to each group's backend (HAProxy's `req_tot`), sampled every autoscaler tick
// and turned into requests per minute over the evaluation window. The window arithmetic is
// CpuHistory's (a cumulative counter over wall time), so both metrics see the same window.
import { CpuHistory } from './cpu-metric.js';

export class RequestHistory {
  private readonly counters = new CpuHistory();
  private readonly last = new Map<string, number>();

  record(service: string, total: number, at: number, keepMs: number): void {
    // A smaller total means a new HAProxy process (a reload): its counters start again at zero.
    if ((this.last.get(service) ?? 0) > total) this.counters.forget(service);
    this.last.set(service, total);
    this.counters.record(service, { at, cpuMs: total }, keepMs);
  }

  /** Requests per minute over the window ending at the latest sample; undefined until the samples span it. */
  perMinute(service: string, windowMs: number, slackMs: number): number | undefined {
    const percent = this.counters.usage(service, windowMs, slackMs);
    // usage() is Δcount / Δms × 100; per minute that is Δcount / Δms × 60 000.
    return percent === undefined ? undefined : percent * 600;
  }
}
