// Journeys: what one virtual customer does once the scheduler starts them. The journey is chosen
// by weight, feeder rows are drawn and `[*]` captures pick with the journey's own seeded random
// stream (random.ts), so journey k behaves the same in every process and shard. Steps depend on
// each other: a step is released when the previous one has answered (plus its pause), with values
// captured from earlier answers; a failed step ends the journey. A step that sends
// {{session.token}} uses the account's session (sessions.ts), renewing it first when needed.
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Feeder, Row } from './feeders/index.js';
import type { Journey, Profile, Step } from './profile/types.js';
import { seeded, type Random } from './random.js';
import { extract, fillJson, fillPlaceholders, isConstantJson } from './placeholders.js';
import { sessionFromAnswer, type Session, type SessionStore } from './sessions.js';
import { requestBytes, type Wire, type WireResponse } from './wire.js';

export interface JourneySink {
  request(endpoint: string, intendedAt: number, res: WireResponse, ok: boolean, label?: string): void;
  journeyStarted(journey: string, sentAt: number): void;
  journeyDone(journey: string, intendedAt: number, doneAt: number, ok: boolean): void;
  /** units a sale step bought (2xx), or may have bought: `unanswered` when it got no answer or a 5xx */
  sold(sku: string, qty: number, unanswered?: boolean): void;
}

export interface JourneyContext {
  runId: string;
  shardLabel: string;
  /** the accounts' sessions, when the profile has a sessions: section */
  sessions?: SessionStore;
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
  /** the account's session, once a step needed it */
  session: Session | undefined;
  /** the first request was written (a renewal may come before the first step) */
  started: boolean;
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
    const state: State = { k, journey, rng, intendedAt, vars: undefined, rows: opts.rows ? new Map(Object.entries(opts.rows)) : undefined, uuid: undefined, onDone: opts.onDone, session: undefined, started: false };
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
    if (step.usesSession && !state.session && this.ctx.sessions) {
      this.withSession(state, index, intendedAt, this.ctx.sessions);
      return;
    }
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
    if (index === 0) this.markStarted(state, res);
    let ok = res.status > 0 && (step.expect ? step.expect.includes(res.status) : res.status >= 200 && res.status < 400);
    let label: string | undefined;
    const sessions = this.ctx.sessions;
    if (sessions && index === 0 && ok && state.journey.name === sessions.spec.login && res.status >= 200 && res.status < 300) {
      // The login journey signs its account in: its answer is the account's session from now on.
      const session = sessionFromAnswer(res.body, res.doneAt, sessions.spec);
      const n = this.accountOf(state, sessions);
      if (!session) [ok, label] = [false, `${res.status} no token in the answer`];
      else if (n !== undefined) {
        sessions.set(n, session);
        state.session = session;
      }
    }
    if (sessions && step.usesSession && res.status === 401 && state.session) {
      // The shop refused the token: the account signs in again on its next journey.
      const n = this.accountOf(state, sessions);
      if (n !== undefined && sessions.last(n)?.token === state.session.token) sessions.drop(n);
    }
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
    if (ok && step.sale && res.status >= 200 && res.status < 300) this.recordSale(body, false);
    // No answer (a timeout, a reset) or a 5xx: the shop may have placed the order all the same.
    else if (step.sale && (res.status === 0 || res.status >= 500)) this.recordSale(body, true);
    const last = endsHere || index === state.journey.steps.length - 1;
    if (!ok || last) {
      this.finish(state, res.doneAt, ok);
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

  private finish(state: State, doneAt: number, ok: boolean): void {
    this.active--;
    this.sink.journeyDone(state.journey.name, state.intendedAt, doneAt, ok);
    state.onDone?.(ok);
  }

  private markStarted(state: State, res: WireResponse): void {
    if (state.started || !Number.isFinite(res.sentAt)) return;
    state.started = true;
    this.sink.journeyStarted(state.journey.name, res.sentAt);
  }

  /** The journey's account (its row of the sessions' feeder, drawn now if not yet). */
  private accountOf(state: State, sessions: SessionStore): number | undefined {
    this.lookup(state, [sessions.spec.feeder, 'n']);
    const n = state.rows?.get(sessions.spec.feeder)?.n;
    return typeof n === 'number' ? n : undefined;
  }

  /**
   * Step `index` needs the account's session: use it while valid, else renew it first (refresh
   * token when there is one, else sign in) and send the step once the renewal answered. One
   * renewal per account at a time; journeys of the same account wait for it.
   */
  private withSession(state: State, index: number, intendedAt: number, sessions: SessionStore): void {
    const n = this.accountOf(state, sessions);
    const now = performance.now();
    const valid = n === undefined ? undefined : sessions.valid(n, now);
    if (n === undefined || valid) {
      state.session = valid ?? { token: '', refreshToken: undefined, renewAt: Infinity, madeAt: now };
      this.step(state, index, intendedAt);
      return;
    }
    const resume = (s: Session | undefined, at: number): void => {
      if (!s) {
        this.finish(state, at, false);
        return;
      }
      state.session = s;
      this.step(state, index, Math.max(intendedAt, at));
    };
    if (!sessions.begin(n, (s) => resume(s, performance.now()))) return;
    const settle = (s: Session | undefined, at: number): void => {
      sessions.settle(n, s);
      resume(s, at);
    };
    const refreshToken = sessions.last(n)?.refreshToken;
    if (refreshToken && sessions.spec.refresh) this.refresh(state, index, intendedAt, refreshToken, sessions, settle);
    else this.signIn(state, index, intendedAt, sessions, settle);
  }

  /** Renews with the refresh token; a refused one (spent, expired) signs in instead. */
  private refresh(state: State, index: number, intendedAt: number, refreshToken: string, sessions: SessionStore, settle: (s: Session | undefined, at: number) => void): void {
    const r = sessions.spec.refresh!;
    const bytes = requestBytes(r.method, r.path, this.wire.hostHeader, [['Content-Type', 'application/json']], JSON.stringify({ refreshToken }));
    this.wire.send({
      bytes,
      needsResponse: true,
      done: (res) => {
        if (index === 0) this.markStarted(state, res);
        const session = res.status >= 200 && res.status < 300 ? sessionFromAnswer(res.body, res.doneAt, sessions.spec) : undefined;
        // 401/403: the refresh token is no longer good, which a browser meets too; it signs in.
        const refused = res.status === 401 || res.status === 403;
        this.sink.request(r.endpoint, intendedAt, res, !!session || refused, session || refused || !res.status ? undefined : `${res.status} no token in the answer`);
        if (session) settle(session, res.doneAt);
        else this.signIn(state, index, res.doneAt, sessions, settle);
      },
    });
  }

  /** Signs the account in with the login journey's first step. */
  private signIn(state: State, index: number, intendedAt: number, sessions: SessionStore, settle: (s: Session | undefined, at: number) => void): void {
    const login = this.profile.journeys.find((j) => j.name === sessions.spec.login)!.steps[0]!;
    const lookup = (ref: string[]): unknown => this.lookup(state, ref);
    const body = login.json ? fillJson(login.json, lookup) : undefined;
    const bytes = this.bytes(login, fillPlaceholders(login.path, lookup, encodeURIComponent), login.headers.map(([k, t]) => [k, fillPlaceholders(t, lookup)]), body === undefined ? undefined : JSON.stringify(body));
    this.wire.send({
      bytes,
      needsResponse: true,
      done: (res) => {
        if (index === 0) this.markStarted(state, res);
        const expected = res.status > 0 && (login.expect ? login.expect.includes(res.status) : res.status >= 200 && res.status < 300);
        const session = expected ? sessionFromAnswer(res.body, res.doneAt, sessions.spec) : undefined;
        this.sink.request(login.endpoint, intendedAt, res, !!session, expected && !session ? `${res.status} no token in the answer` : undefined);
        settle(session, res.doneAt);
      },
    });
  }

  private recordSale(body: unknown, unanswered: boolean): void {
    const items = (body as { items?: unknown } | undefined)?.items;
    if (!Array.isArray(items)) return;
    for (const item of items as Array<{ sku?: unknown; qty?: unknown }>) {
      if (typeof item?.sku === 'string' && typeof item.qty === 'number') this.sink.sold(item.sku, item.qty, unanswered);
    }
  }

  private lookup(state: State, ref: string[]): unknown {
    const [head, field] = ref as [string, string | undefined];
    if (state.vars?.has(head)) return state.vars.get(head);
    switch (head) {
      case 'session':
        return field === 'token' ? state.session?.token : undefined;
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
