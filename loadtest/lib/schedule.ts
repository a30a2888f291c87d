// The arrival schedule: when each journey is meant to start. Phases give a rate that is constant
// or ramps linearly, so the number of journeys due by time t is the integral A(t); journey k is
// due when A(t) = k + ½ (centred in its slot, so no journey sits on a second boundary). The
// schedule is a pure function of the phases: the scheduler, the recorder's "scheduled" series,
// the thresholds and every shard compute exactly the same times.
import type { Phase } from './profile/types.js';

export interface Shard {
  /** 0-based */
  index: number;
  count: number;
}

export const SINGLE: Shard = { index: 0, count: 1 };

interface Segment {
  phase: Phase;
  /** A(start) */
  before: number;
  /** journeys in the phase (fractional) */
  amount: number;
}

export class Schedule {
  private readonly segments: Segment[];
  /** Journeys in the whole profile, over all shards. */
  readonly total: number;
  readonly durationMs: number;

  constructor(
    readonly phases: Phase[],
    readonly shard: Shard = SINGLE,
  ) {
    let before = 0;
    this.segments = phases.map((phase) => {
      const amount = ((phase.rate + phase.rampTo) / 2) * (phase.durationMs / 1000);
      const seg = { phase, before, amount };
      before += amount;
      return seg;
    });
    this.total = Math.floor(before + 0.5);
    this.durationMs = phases.reduce((a, p) => a + p.durationMs, 0);
  }

  /** A(t): journeys due by t (ms since the start), over all shards. */
  dueBy(ms: number): number {
    for (const s of this.segments) {
      const end = s.phase.startMs + s.phase.durationMs;
      if (ms >= end) continue;
      const tau = Math.max(0, ms - s.phase.startMs) / 1000;
      const d = s.phase.durationMs / 1000;
      return s.before + s.phase.rate * tau + ((s.phase.rampTo - s.phase.rate) * tau * tau) / (2 * d);
    }
    const last = this.segments[this.segments.length - 1];
    return last ? last.before + last.amount : 0;
  }

  /** When journey k (0-based, over all shards) is due, in ms since the start. */
  timeOf(k: number): number {
    const target = k + 0.5;
    for (const s of this.segments) {
      if (target > s.before + s.amount || s.amount === 0) continue;
      const c = target - s.before;
      const d = s.phase.durationMs / 1000;
      const a = (s.phase.rampTo - s.phase.rate) / (2 * d);
      const b = s.phase.rate;
      // Root of a·τ² + b·τ − c = 0 in the form that stays exact when a is 0 or negative.
      const tau = (2 * c) / (b + Math.sqrt(Math.max(0, b * b + 4 * a * c)));
      return s.phase.startMs + Math.min(tau * 1000, s.phase.durationMs);
    }
    return this.durationMs;
  }

  /** This shard's journeys: k = index, index + count, … */
  *journeys(from = 0): Generator<number> {
    const first = from <= this.shard.index ? this.shard.index : from + ((this.shard.index - (from % this.shard.count) + this.shard.count) % this.shard.count);
    for (let k = first; k < this.total; k += this.shard.count) yield k;
  }

  /** The phase running at t (the last one after the end). */
  phaseIndexAt(ms: number): number {
    for (let i = 0; i < this.phases.length; i++) {
      const p = this.phases[i]!;
      if (ms < p.startMs + p.durationMs) return i;
    }
    return this.phases.length - 1;
  }

  /** The profile's rate at t, in journeys per second over all shards. */
  rateAt(ms: number): number {
    const p = this.phases[this.phaseIndexAt(ms)];
    if (!p || ms >= this.durationMs) return 0;
    return p.rate + ((p.rampTo - p.rate) * (ms - p.startMs)) / p.durationMs;
  }

  /** How many of this shard's journeys are due in each second of the run, and in each phase. */
  counts(): { perSecond: number[]; perPhase: number[] } {
    const perSecond = new Array<number>(Math.ceil(this.durationMs / 1000)).fill(0);
    const perPhase = new Array<number>(this.phases.length).fill(0);
    let phase = 0;
    for (const k of this.journeys()) {
      const t = this.timeOf(k);
      const sec = Math.min(perSecond.length - 1, Math.floor(t / 1000));
      perSecond[sec] = (perSecond[sec] ?? 0) + 1;
      while (phase < this.phases.length - 1 && t >= this.phases[phase]!.startMs + this.phases[phase]!.durationMs) phase++;
      perPhase[phase]! += 1;
    }
    return { perSecond, perPhase };
  }
}

export function parseShard(value: string): Shard | undefined {
  const m = /^(\d+)\/(\d+)$/.exec(value.trim());
  if (!m) return undefined;
  const i = Number(m[1]);
  const n = Number(m[2]);
  return i >= 1 && n >= 1 && i <= n ? { index: i - 1, count: n } : undefined;
}
