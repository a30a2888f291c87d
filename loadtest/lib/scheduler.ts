// The scheduler: the open model. Journeys start at the times the schedule gives, whether or not
// the shop has answered the journeys before them. The only thing that holds a journey back is a
// full queue (more than maxQueued requests already waiting for one of the maxInFlight
// connections): then the journey is dropped and counted, as k6 counts dropped iterations,
// rather than silently started late.
import { performance } from 'node:perf_hooks';
import type { JourneyEngine } from './journeys.js';
import type { Recorder } from './recorder.js';
import type { Schedule } from './schedule.js';
import type { Wire } from './wire.js';

export class Scheduler {
  private next: number | undefined;
  private timer: NodeJS.Timeout | undefined;
  private finished: (() => void) | undefined;
  private stopped = false;
  released = 0;
  droppedCount = 0;
  /** the journey every journey is, when only one has a weight (drops need no choice then) */
  private readonly onlyJourney: string | undefined;

  constructor(
    private readonly schedule: Schedule,
    private readonly engine: JourneyEngine,
    private readonly wire: Wire,
    private readonly recorder: Recorder,
    private readonly maxQueued: number,
    /** performance.now() of the schedule's time 0 */
    private readonly t0: number,
  ) {
    this.next = schedule.shard.index < schedule.total ? schedule.shard.index : undefined;
    const weighted = engine.journeys.filter((j) => j.weight > 0);
    this.onlyJourney = weighted.length === 1 ? weighted[0]!.name : undefined;
  }

  /** This shard's next journey number. */
  private pull(): number | undefined {
    const k = this.next! + this.schedule.shard.count;
    return k < this.schedule.total ? k : undefined;
  }

  /** Releases journeys until the schedule ends or stop() is called. */
  run(): Promise<void> {
    return new Promise((resolve) => {
      this.finished = resolve;
      this.loop();
    });
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.finished?.();
  }

  private loop(): void {
    if (this.stopped) return;
    const elapsed = performance.now() - this.t0;
    // Journey k is due once A(elapsed) ≥ k + ½.
    const lastDue = Math.min(this.schedule.total - 1, Math.floor(this.schedule.dueBy(elapsed) - 0.5));
    while (this.next !== undefined && this.next <= lastDue) {
      if (this.wire.queued >= this.maxQueued) {
        this.drop(lastDue, this.t0 + elapsed);
        break;
      }
      this.engine.start(this.next, this.t0 + this.schedule.timeOf(this.next));
      this.released++;
      this.next = this.pull();
    }
    if (this.next === undefined) {
      this.finished?.();
      return;
    }
    const wait = this.t0 + this.schedule.timeOf(this.next) - performance.now();
    this.timer = setTimeout(() => this.loop(), Math.min(100, Math.max(0, wait)));
  }

  /** The queue is full: every journey due up to `lastDue` is dropped (filed under this moment). */
  private drop(lastDue: number, at: number): void {
    const { count } = this.schedule.shard;
    const n = Math.floor((lastDue - this.next!) / count) + 1;
    if (this.onlyJourney) this.recorder.dropped(this.onlyJourney, at, n);
    else for (let k = this.next!; k <= lastDue; k += count) this.recorder.dropped(this.engine.plan(k).journey.name, at);
    this.droppedCount += n;
    const k = this.next! + n * count;
    this.next = k < this.schedule.total ? k : undefined;
  }
}
