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
    while (this.next !== undefined) {
      const at = this.schedule.timeOf(this.next);
      if (at > elapsed) break;
      const intendedAt = this.t0 + at;
      if (this.wire.queued >= this.maxQueued) {
        this.recorder.dropped(this.engine.plan(this.next).journey.name, intendedAt);
        this.droppedCount++;
      } else {
        this.engine.start(this.next, intendedAt);
        this.released++;
      }
      this.next = this.pull();
    }
    if (this.next === undefined) {
      this.finished?.();
      return;
    }
    const wait = this.t0 + this.schedule.timeOf(this.next) - performance.now();
    this.timer = setTimeout(() => this.loop(), Math.min(100, Math.max(0, wait)));
  }
}
