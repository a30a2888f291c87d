// Watching the fleet during a run: the scaling probe's sizes every probe.intervalMs from the
// schedule's time 0, until asked to stop, optionally after the scale-in thresholds' services are
// back at their minimum (or their `within` has passed); then the activity history and metrics
// for the run. One loop for both places that watch: the single-process runner (runner.ts) and the
// AWS launcher (generators/aws.ts), whose tasks may not read the Auto Scaling groups.
// Probe errors never end a run: each distinct message is one progress line and is kept for the
// report.
import { systemClock, type Clock } from './generators/clock.js';
import type { FleetSample, FleetSize, ScalingProbe } from './probes/probe.js';
import type { Progress } from './progress.js';
import type { RunResult } from './result.js';
import type { Threshold } from './thresholds/registry.js';
import { formatSeconds } from './units.js';

export interface FleetWatchOptions {
  probe: ScalingProbe;
  /** the schedule's time 0 (epoch ms): samples are timed from it, and sampling begins there */
  startMs: number;
  progress: Pick<Progress, 'line' | 'status'>;
  clock?: Clock;
}

/** What the watch waits for after the last phase: the scale-in thresholds' services at their minimum, until a deadline. */
export interface ScaleInWait {
  services: string[];
  /** epoch ms: the last phase's end plus the longest `within` */
  untilMs: number;
  /** epoch ms: the last phase's end, for the status line */
  endMs: number;
}

/** The scale-in wait a profile asks for, or undefined when it has no scaleIn threshold. */
export function scaleInWait(profile: { thresholds: Threshold[]; durationMs: number }, startMs: number): ScaleInWait | undefined {
  const scaleIns = profile.thresholds.flatMap((t) => (t.kind === 'scaleIn' ? [t] : []));
  if (!scaleIns.length) return undefined;
  const endMs = startMs + profile.durationMs;
  return { services: scaleIns.map((t) => t.service), untilMs: endMs + Math.max(...scaleIns.map((t) => t.withinMs)), endMs };
}

export class FleetWatch {
  readonly samples: FleetSample[] = [];
  readonly errors: string[] = [];
  /** the last sizes seen, for the live status line */
  last: Record<string, FleetSize> | undefined;
  private readonly clock: Clock;
  /** ends the current sleep: a stop takes its sample at once */
  private wake = new AbortController();
  private stopping: { wait: ScaleInWait | undefined } | undefined;
  private cancelled = false;
  private readonly loop: Promise<void>;

  constructor(private readonly opts: FleetWatchOptions) {
    this.clock = opts.clock ?? systemClock;
    this.loop = this.run();
  }

  /**
   * Stops sampling: at once (after one last sample) without `wait`, else once the waited-for
   * services are back at their minimum or the wait's deadline has passed. Resolves after the last sample.
   */
  async stop(wait?: ScaleInWait): Promise<void> {
    if (!this.stopping || !wait) this.stopping = { wait };
    this.wake.abort();
    await this.loop;
  }

  /** Ends the watch at once, without another sample (Ctrl-C, a failure): nothing is left sleeping. */
  cancel(): void {
    this.cancelled = true;
    this.wake.abort();
  }

  /** Stops (without waiting) and reads the activity history and metrics for [since, until]: the result's `fleet`. */
  async report(since: Date, until: Date): Promise<RunResult['fleet']> {
    await this.stop();
    let activities: RunResult['fleet']['activities'] = [];
    let metrics: RunResult['fleet']['metrics'];
    try {
      activities = await this.opts.probe.activities(since, until);
      metrics = await this.opts.probe.metrics(since, until);
    } catch (err) {
      this.error((err as Error).message);
    }
    return { probe: this.opts.probe.describe(), samples: this.samples, activities, metrics, errors: this.errors };
  }

  private async run(): Promise<void> {
    const { probe, startMs, progress } = this.opts;
    // The launcher knows the start before it comes: the fleet is watched from time 0.
    if (startMs > this.clock.now()) await this.nap(startMs - this.clock.now());
    for (;;) {
      if (this.cancelled) return;
      await this.sample();
      if (this.stopping) {
        const wait = this.stopping.wait;
        if (!wait || this.cancelled) return;
        const now = this.clock.now();
        // The scale-in verdict reads the samples from the last phase's end on: a run whose last
        // journeys went out a little early still gets one sample there.
        if (now < wait.endMs) {
          await this.nap(wait.endMs - now);
          continue;
        }
        if (this.atMin(wait) || now >= wait.untilMs) return;
        progress.status(`waiting for ${wait.services.map((s) => `${s} ${this.last?.[s]?.inService ?? '?'} → ${this.last?.[s]?.min ?? '?'}`).join(', ')} (${formatSeconds((now - wait.endMs) / 1000)} of ${formatSeconds((wait.untilMs - wait.endMs) / 1000)})`);
        await this.nap(Math.max(0, Math.min(probe.intervalMs, wait.untilMs - now)));
      } else {
        await this.nap(probe.intervalMs);
      }
    }
  }

  private async nap(ms: number): Promise<void> {
    if (this.cancelled) return;
    this.wake = new AbortController();
    await this.clock.sleep(ms, this.wake.signal);
  }

  private atMin(wait: ScaleInWait): boolean {
    return wait.services.every((s) => {
      const f = this.last?.[s];
      return !!f && f.inService <= f.min;
    });
  }

  private async sample(): Promise<void> {
    try {
      this.last = await this.opts.probe.sample();
      this.samples.push({ t: (this.clock.now() - this.opts.startMs) / 1000, services: this.last });
    } catch (err) {
      this.error((err as Error).message);
    }
  }

  private error(msg: string): void {
    if (this.errors.includes(msg)) return;
    this.errors.push(msg);
    this.opts.progress.line(`scaling probe: ${msg}`);
  }
}
