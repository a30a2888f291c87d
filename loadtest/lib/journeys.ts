// Journeys: what one virtual customer does once the scheduler starts them. The journey is chosen
// by weight, feeder rows are drawn and `[*]` captures pick with the journey's own seeded random
// stream (random.ts), so journey k behaves the same in every process and shard. Steps depend on
// each other: a step is released when the previous one has answered (plus its pause), with values
// captured from earlier answers; a failed step ends the journey.
import { randomUUID } from 'node:crypto';
import type { Feeder, Row } from './feeders/index.js';
import type { Journey, Profile, Step } from './profile/types.js';
import { seeded, type Random } from './random.js';
import { extract, fillJson, fillPlaceholders, isConstantJson } from './placeholders.js';
import { requestBytes, type Wire, type WireResponse } from './wire.js';

export interface JourneySink {
  request(endpoint: string, intendedAt: number, res: WireResponse, ok: boolean, label?: string): void;
  journeyStarted(journey: string, sentAt: number): void;
  journeyDone(journey: string, intendedAt: number, doneAt: number, ok: boolean): void;
  sold(sku: string, qty: number): void;
}

export interface JourneyContext {
  runId: string;
  shardLabel: string;
}

interface State {
  k: number;
  journey: Journey;
  rng: Random;
  intendedAt: number;
  /** captured values, created on the first capture */
  vars: Map<string, unknown> | undefined;
  /** feeder rows drawn (or fixed by a setup task), created on the first draw */
  rows: Map<string, Row> | undefined;
  uuid: string | undefined;
  onDone: ((ok: boolean) => void) | undefined;
}

/** Weighted choice, deterministic in the journey number. */
export function chooseJourney(journeys: Journey[], rng: Random): Journey {
  const total = journeys.reduce((a, j) => a + j.weight, 0);
  let x = rng.next() * total;
  for (const j of journeys) {
    if (j.weight <= 0) continue;
    if (x < j.weight) return j;
    x -= j.weight;
  }
  return journeys.filter((j) => j.weight > 0).pop() ?? journeys[0]!;
}

export class JourneyEngine {
  private readonly staticBytes = new Map<Step, Buffer>();
  private readonly pauses = new Set<NodeJS.Timeout>();
  /** Journeys started and not yet finished. */
  active = 0;

  get journeys(): Journey[] {
    return this.profile.journeys;
  }

  constructor(
    private readonly profile: Profile,
    private readonly feeders: Map<string, Feeder>,
    private readonly wire: Wire,
    private readonly sink: JourneySink,
    private readonly ctx: JourneyContext,
  ) {
    for (const j of profile.journeys) {
      for (const s of j.steps) {
        if (s.path.constant && s.headers.every(([, t]) => t.constant) && (!s.json || isConstantJson(s.json))) {
          this.staticBytes.set(s, this.bytes(s, s.path.source, s.headers.map(([k, t]) => [k, t.source]), s.json ? JSON.stringify(fillJson(s.json, () => undefined)) : undefined));
        }
      }
    }
  }

  /** The random stream of journey k, and the journey it is. */
  plan(k: number): { rng: Random; journey: Journey } {
    const rng = seeded(this.profile.seed, k);
    return { rng, journey: chooseJourney(this.profile.journeys, rng) };
  }

  /**
   * Starts journey k, meant to start at `intendedAt` (performance.now() time). Setup tasks name
   * the journey and fix a feeder row; `onDone` hears how it ended.
   */
  start(k: number, intendedAt: number, opts: { journey?: Journey; rng?: Random; rows?: Record<string, Row>; onDone?: (ok: boolean) => void } = {}): void {
    let { journey, rng } = opts;
    if (!journey || !rng) ({ journey, rng } = this.plan(k));
    const state: State = { k, journey, rng, intendedAt, vars: undefined, rows: opts.rows ? new Map(Object.entries(opts.rows)) : undefined, uuid: undefined, onDone: opts.onDone };
    this.active++;
    this.step(state, 0, intendedAt);
  }

  /** Cancels pending pauses (the run is over); their journeys count as failed. */
  cancelPauses(): void {
    for (const t of this.pauses) clearTimeout(t);
    this.pauses.clear();
  }

  private step(state: State, index: number, intendedAt: number): void {
    const step = state.journey.steps[index]!;
    let bytes = this.staticBytes.get(step);
    let body: unknown;
    if (!bytes || step.sale) {
      const lookup = (ref: string[]): unknown => this.lookup(state, ref);
      const path = fillPlaceholders(step.path, lookup, encodeURIComponent);
      const headers: Array<[string, string]> = step.headers.map(([k, t]) => [k, fillPlaceholders(t, lookup)]);
      body = step.json ? fillJson(step.json, lookup) : undefined;
      bytes = bytes ?? this.bytes(step, path, headers, body === undefined ? undefined : JSON.stringify(body));
    }
    this.wire.send({ bytes, needsResponse: step.needsResponse, done: (res) => this.answered(state, index, intendedAt, res, body) });
  }

  private bytes(step: Step, path: string, headers: Array<[string, string]>, body: string | undefined): Buffer {
    if (body !== undefined && !headers.some(([k]) => k.toLowerCase() === 'content-type')) headers.push(['Content-Type', 'application/json']);
    return requestBytes(step.method, path, this.wire.hostHeader, headers, body);
  }

  private answered(state: State, index: number, intendedAt: number, res: WireResponse, body: unknown): void {
    const step = state.journey.steps[index]!;
    if (index === 0 && Number.isFinite(res.sentAt)) this.sink.journeyStarted(state.journey.name, res.sentAt);
    let ok = res.status > 0 && (step.expect ? step.expect.includes(res.status) : res.status >= 200 && res.status < 400);
    let label: string | undefined;
    // An expected answer that is not a 2xx (409 OUT_OF_STOCK on a sold-out item) has nothing to
    // capture: the journey ends there, successfully.
    const endsHere = ok && step.captures.length > 0 && (res.status < 200 || res.status >= 300);
    if (ok && step.captures.length && !endsHere) {
      let json: unknown;
      if (step.captures.some((c) => c.expr.from === 'body')) {
        try {
          json = res.body ? JSON.parse(res.body) : undefined;
        } catch {
          json = undefined;
        }
      }
      for (const c of step.captures) {
        const value = c.expr.from === 'header' ? res.headers?.[c.expr.header] : extract(json, c.expr.segments, (n) => state.rng.int(n));
        if (value === undefined || value === null) {
          ok = false;
          label = `${res.status} capture ${c.name} failed`;
          break;
        }
        (state.vars ??= new Map()).set(c.name, value);
      }
    }
    this.sink.request(step.endpoint, intendedAt, res, ok, label);
    if (ok && step.sale && res.status >= 200 && res.status < 300) this.recordSale(body);
    const last = endsHere || index === state.journey.steps.length - 1;
    if (!ok || last) {
      this.active--;
      this.sink.journeyDone(state.journey.name, state.intendedAt, res.doneAt, ok);
      state.onDone?.(ok);
      return;
    }
    const next = state.journey.steps[index + 1]!;
    const nextAt = res.doneAt + next.pauseMs;
    if (next.pauseMs <= 0) {
      this.step(state, index + 1, nextAt);
      return;
    }
    const timer = setTimeout(() => {
      this.pauses.delete(timer);
      this.step(state, index + 1, nextAt);
    }, next.pauseMs);
    this.pauses.add(timer);
  }

  private recordSale(body: unknown): void {
    const items = (body as { items?: unknown } | undefined)?.items;
    if (!Array.isArray(items)) return;
    for (const item of items as Array<{ sku?: unknown; qty?: unknown }>) {
      if (typeof item?.sku === 'string' && typeof item.qty === 'number') this.sink.sold(item.sku, item.qty);
    }
  }

  private lookup(state: State, ref: string[]): unknown {
    const [head, field] = ref as [string, string | undefined];
    if (state.vars?.has(head)) return state.vars.get(head);
    switch (head) {
      case 'uuid':
        return (state.uuid ??= randomUUID());
      case 'n':
        return state.k;
      case 'run':
        return this.ctx.runId;
      case 'shard':
        return this.ctx.shardLabel;
    }
    let row = state.rows?.get(head);
    if (!row) {
      const feeder = this.feeders.get(head);
      if (!feeder) return undefined;
      row = feeder.pick(state.rng);
      (state.rows ??= new Map()).set(head, row);
    }
    return field ? row[field] : undefined;
  }
}
