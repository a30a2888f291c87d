// The recorder: HDR histograms (hdr-histogram-js) at microsecond resolution, per endpoint, per
// journey and per second. Latency is measured from each request's intended start (the schedule's
// time for a journey's first step, the previous step's end plus its pause for later ones) to the
// end of its response, so time spent waiting for the shop, a connection or the harness counts:
// coordinated omission is corrected by construction, as in wrk2. The time from the actual write
// (service time) is kept beside it to show how much of the latency was queueing.
//
// Everything the recorder keeps is counts and encoded histograms, which add exactly: a result
// of several shards merges into the result of one process (merge.ts).
import * as hdr from 'hdr-histogram-js';
import type { Histogram } from 'hdr-histogram-js';
import type { WireResponse } from './wire.js';

export function newHistogram(): Histogram {
  return hdr.build({ bitBucketSize: 32, autoResize: true, lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });
}

export function encode(h: Histogram): string {
  return hdr.encodeIntoCompressedBase64(h);
}

export function decode(s: string): Histogram {
  return hdr.decodeFromCompressedBase64(s, 32, false);
}

export interface LatencySummary {
  count: number;
  /** milliseconds */
  min: number;
  mean: number;
  p50: number;
  p90: number;
  p95: number;
  p99: number;
  p999: number;
  max: number;
}

export function summarize(h: Histogram): LatencySummary {
  const ms = (us: number): number => us / 1000;
  if (h.totalCount === 0) return { count: 0, min: 0, mean: 0, p50: 0, p90: 0, p95: 0, p99: 0, p999: 0, max: 0 };
  return {
    count: h.totalCount,
    min: ms(h.minNonZeroValue),
    mean: ms(h.mean),
    p50: ms(h.getValueAtPercentile(50)),
    p90: ms(h.getValueAtPercentile(90)),
    p95: ms(h.getValueAtPercentile(95)),
    p99: ms(h.getValueAtPercentile(99)),
    p999: ms(h.getValueAtPercentile(99.9)),
    max: ms(h.maxValue),
  };
}

export interface SecondEndpoint {
  requests: number;
  errors: number;
  latency: string;
}

export interface SecondRecord {
  /** seconds since the start of the run */
  t: number;
  /** journeys the schedule starts in this second (this process's share) */
  scheduled: number;
  /** journeys whose first request was written in this second */
  started: number;
  /** journeys not started because too many requests were waiting for a connection */
  dropped: number;
  /** requests that ended in this second, successful or not */
  requests: number;
  errors: number;
  /** encoded histogram (µs) of the requests that ended in this second; '' when none */
  latency: string;
  endpoints: Record<string, SecondEndpoint>;
}

export interface EndpointTotals {
  requests: number;
  errors: number;
  /** responses by HTTP status, and failures without one by reason (timeout, connection, capture …) */
  statuses: Record<string, number>;
  latency: string;
  serviceTime: string;
}

export interface JourneyTotals {
  started: number;
  completed: number;
  failed: number;
  dropped: number;
  /** journey duration from its intended start to its last response */
  duration: string;
}

export interface Recording {
  seconds: SecondRecord[];
  endpoints: Record<string, EndpointTotals>;
  journeys: Record<string, JourneyTotals>;
  latency: string;
  serviceTime: string;
  /** units sold per sku by successful sale steps */
  sales: Record<string, number>;
  /**
   * units per sku of sale steps that got no answer or a 5xx: the shop may have sold them (a
   * checkout that timed out at the harness can still complete); absent in older results
   */
  unansweredSales?: Record<string, number>;
  /** journeys started (first request written) and dropped in each phase, by when it happened; one more entry for after the last phase */
  phases: Array<{ started: number; dropped: number }>;
}

/** One endpoint's figures: cumulative, and for the second being filled. */
class Live {
  requests = 0;
  errors = 0;
  /** responses by status code (an array: no string per request) */
  readonly byStatus = new Array<number>(600).fill(0);
  /** failures filed under a label (timeout, connection, capture …) */
  readonly labels: Record<string, number> = {};
  readonly latency = newHistogram();
  readonly serviceTime = newHistogram();
  secRequests = 0;
  secErrors = 0;
  readonly secLatency = newHistogram();

  statuses(): Record<string, number> {
    const out: Record<string, number> = {};
    this.byStatus.forEach((n, status) => n && (out[String(status)] = n));
    for (const [k, n] of Object.entries(this.labels)) out[k] = (out[k] ?? 0) + n;
    return out;
  }
}

class LiveJourney {
  started = 0;
  completed = 0;
  failed = 0;
  dropped = 0;
  readonly duration = newHistogram();
}

/** What the live view and abortOnFail read while the run goes on. */
export interface Snapshot {
  requests: number;
  errors: number;
  /** latency histogram (µs), overall or of one endpoint or journey */
  latency(scope: { endpoint?: string; journey?: string }): Histogram | undefined;
  errorRate(scope: { endpoint?: string; journey?: string }): number;
  /** the seconds closed so far, for the sliding-window thresholds */
  closedSeconds(): readonly SecondRecord[];
}

export class Recorder implements Snapshot {
  private readonly endpoints = new Map<string, Live>();
  private readonly journeyStats = new Map<string, LiveJourney>();
  // Totals over every endpoint; the overall histograms are sums of the endpoints' (adding them
  // once a second costs less than recording every value twice).
  private readonly all = { requests: 0, errors: 0, secRequests: 0, secErrors: 0 };
  private readonly scratch = newHistogram();
  private readonly seconds: SecondRecord[] = [];
  private current = 0;
  readonly sales: Record<string, number> = {};
  readonly unansweredSales: Record<string, number> = {};
  /** The last closed second and its p99 in ms, for the live view. */
  lastSecond: SecondRecord | undefined;
  lastP99Ms: number | undefined;
  private readonly phaseCounts: Array<{ started: number; dropped: number }>;

  constructor(
    /** performance.now() at the start of the run */
    readonly t0: number,
    scheduledPerSecond: number[],
    endpoints: string[],
    journeys: string[],
    /** phase boundaries in ms since the start: the end of each phase */
    private readonly phaseEnds: number[] = [],
  ) {
    this.phaseCounts = Array.from({ length: phaseEnds.length + 1 }, () => ({ started: 0, dropped: 0 }));
    scheduledPerSecond.forEach((n, t) => (this.second(t).scheduled = n));
    for (const e of endpoints) this.endpoints.set(e, new Live());
    for (const j of journeys) this.journeyStats.set(j, new LiveJourney());
  }

  get requests(): number {
    return this.all.requests;
  }

  get errors(): number {
    return this.all.errors;
  }

  private second(t: number): SecondRecord {
    while (this.seconds.length <= t) {
      this.seconds.push({ t: this.seconds.length, scheduled: 0, started: 0, dropped: 0, requests: 0, errors: 0, latency: '', endpoints: {} });
    }
    return this.seconds[t]!;
  }

  private secondOf(perfMs: number): number {
    return Math.max(0, Math.floor((perfMs - this.t0) / 1000));
  }

  /**
   * One request ended. `ok` says whether it counts as a success; `label` files it under something
   * other than its status (e.g. "200 capture failed"); failures without a status go under their reason.
   */
  request(endpoint: string, intendedAt: number, res: WireResponse, ok: boolean, label?: string): void {
    const sec = this.secondOf(res.doneAt);
    if (sec > this.current) this.rollTo(sec);
    const e = this.endpoints.get(endpoint) ?? this.addEndpoint(endpoint);
    if (label !== undefined || !res.status) {
      const key = label ?? res.error ?? 'error';
      e.labels[key] = (e.labels[key] ?? 0) + 1;
    } else e.byStatus[res.status] = (e.byStatus[res.status] ?? 0) + 1;
    e.requests++;
    e.secRequests++;
    this.all.requests++;
    this.all.secRequests++;
    if (!ok) {
      e.errors++;
      e.secErrors++;
      this.all.errors++;
      this.all.secErrors++;
    }
    if (res.status) {
      const us = Math.max(1, Math.round((res.doneAt - intendedAt) * 1000));
      e.latency.recordValue(us);
      e.secLatency.recordValue(us);
      e.serviceTime.recordValue(Math.max(1, Math.round((res.doneAt - res.sentAt) * 1000)));
    }
  }

  private phaseOf(perfMs: number): { started: number; dropped: number } {
    const ms = perfMs - this.t0;
    let i = 0;
    while (i < this.phaseEnds.length && ms >= this.phaseEnds[i]!) i++;
    return this.phaseCounts[i]!;
  }

  journeyStarted(journey: string, sentAt: number): void {
    this.second(this.secondOf(sentAt)).started++;
    this.phaseOf(sentAt).started++;
    this.journey(journey).started++;
  }

  journeyDone(journey: string, intendedAt: number, doneAt: number, ok: boolean): void {
    const j = this.journey(journey);
    if (ok) j.completed++;
    else j.failed++;
    j.duration.recordValue(Math.max(1, Math.round((doneAt - intendedAt) * 1000)));
  }

  dropped(journey: string, intendedAt: number, count = 1): void {
    this.second(this.secondOf(intendedAt)).dropped += count;
    this.phaseOf(intendedAt).dropped += count;
    this.journey(journey).dropped += count;
  }

  sold(sku: string, qty: number, unanswered = false): void {
    const into = unanswered ? this.unansweredSales : this.sales;
    into[sku] = (into[sku] ?? 0) + qty;
  }

  private journey(name: string): LiveJourney {
    let j = this.journeyStats.get(name);
    if (!j) {
      j = new LiveJourney();
      this.journeyStats.set(name, j);
    }
    return j;
  }

  private addEndpoint(name: string): Live {
    const e = new Live();
    this.endpoints.set(name, e);
    return e;
  }

  /** Closes every second before `sec` (called on each response and by the live view's tick). */
  rollTo(sec: number): void {
    if (sec <= this.current) return;
    const rec = this.second(this.current);
    rec.requests += this.all.secRequests;
    rec.errors += this.all.secErrors;
    this.scratch.reset();
    for (const [name, e] of this.endpoints) {
      if (e.secRequests) {
        rec.endpoints[name] = { requests: e.secRequests, errors: e.secErrors, latency: e.secLatency.totalCount ? encode(e.secLatency) : '' };
        if (e.secLatency.totalCount) this.scratch.add(e.secLatency);
      }
      e.secRequests = 0;
      e.secErrors = 0;
      e.secLatency.reset();
    }
    rec.latency = this.scratch.totalCount ? encode(this.scratch) : '';
    this.lastP99Ms = this.scratch.totalCount ? this.scratch.getValueAtPercentile(99) / 1000 : undefined;
    this.all.secRequests = 0;
    this.all.secErrors = 0;
    this.lastSecond = rec;
    this.current = sec;
    this.second(sec);
  }

  /** The sum of every endpoint's cumulative histogram of `pick`. */
  private total(pick: (e: Live) => Histogram): Histogram {
    const h = newHistogram();
    for (const e of this.endpoints.values()) if (pick(e).totalCount) h.add(pick(e));
    return h;
  }

  tick(now: number): void {
    this.rollTo(this.secondOf(now));
  }

  latency(scope: { endpoint?: string; journey?: string }): Histogram | undefined {
    if (scope.endpoint) return this.endpoints.get(scope.endpoint)?.latency;
    if (scope.journey) return this.journeyStats.get(scope.journey)?.duration;
    return this.total((e) => e.latency);
  }

  errorRate(scope: { endpoint?: string; journey?: string }): number {
    if (scope.endpoint) {
      const e = this.endpoints.get(scope.endpoint);
      return e && e.requests ? e.errors / e.requests : 0;
    }
    if (scope.journey) {
      const j = this.journeyStats.get(scope.journey);
      return j && j.completed + j.failed ? j.failed / (j.completed + j.failed) : 0;
    }
    return this.all.requests ? this.all.errors / this.all.requests : 0;
  }

  closedSeconds(): readonly SecondRecord[] {
    return this.seconds.slice(0, this.current);
  }

  /** Closes the last second and hands over everything in serialisable form. */
  finish(now: number): Recording {
    this.rollTo(Math.max(this.current + 1, this.secondOf(now) + 1));
    const seconds = this.seconds.slice(0, this.current);
    const endpoints: Record<string, EndpointTotals> = {};
    for (const [name, e] of this.endpoints) {
      endpoints[name] = { requests: e.requests, errors: e.errors, statuses: e.statuses(), latency: encode(e.latency), serviceTime: encode(e.serviceTime) };
    }
    const journeys: Record<string, JourneyTotals> = {};
    for (const [name, j] of this.journeyStats) {
      journeys[name] = { started: j.started, completed: j.completed, failed: j.failed, dropped: j.dropped, duration: encode(j.duration) };
    }
    return { seconds, endpoints, journeys, latency: encode(this.total((e) => e.latency)), serviceTime: encode(this.total((e) => e.serviceTime)), sales: { ...this.sales }, unansweredSales: { ...this.unansweredSales }, phases: this.phaseCounts.map((p) => ({ ...p })) };
  }
}
