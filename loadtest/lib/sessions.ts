// Sessions: the accounts of a users feeder sign in once and keep their tokens across journeys,
// as browsers do. A step sends `{{session.token}}`; the journey's account (its row of the feeder)
// uses its session while it is valid, and renews it first when it is not: with the refresh token
// when the last answer had one (`refresh:`), else by signing in again (the login journey's first
// step). Signing in is also a journey of its own, with its own weight. A login storm is a phase
// at whose start a share of the sessions is dropped (`storms:`), so those shoppers sign in again.
//
// The profile's `sessions:` section (schema, compilation) and the store the journeys read are
// both here; journeys.ts does the requests.
import { Type, type Static } from '@sinclair/typebox';
import { didYouMean, type PathKey } from '../../environment/index.js';
import type { FeederSpec } from './feeders/index.js';
import { placeholderRefs, jsonPlaceholderRefs } from './placeholders.js';
import type { ProfileCompiler } from './profile/compiler.js';
import { Dur, Obj, Ratio } from './profile/shapes.js';
import type { Journey, Phase, Step } from './profile/types.js';

/** The variable steps read the token from: {{session.token}}. */
export const SESSION_VAR = 'session';
export const SESSION_FIELDS = ['token'] as const;

export const SessionsSchema = Obj(
  {
    feeder: Type.Optional(Type.String({ description: 'the users feeder whose accounts keep sessions, e.g. feeder: user (default: the only users feeder)' })),
    login: Type.String({ description: 'the journey that signs in, e.g. login: sign-in; its first step is the login request, whose answer {token, expiresIn, refreshToken} is the session' }),
    refresh: Type.Optional(Type.String({ description: 'the refresh request, e.g. refresh: POST /api/users/refresh (body {refreshToken}); used when the login answer has a refreshToken' })),
    renewBefore: Type.Optional(Dur('how long before a token expires it is renewed (default 10s)')),
    ttl: Type.Optional(Dur('how long a token lasts when the answer has no expiresIn (default: until the shop refuses it)')),
    storms: Type.Optional(
      Type.Array(
        Obj(
          { phase: Type.String({ description: 'the phase at whose start the sessions are dropped, e.g. phase: flash-spike' }), share: Type.Optional(Ratio('the share of sessions dropped (default 100%)')) },
          'a login storm: {phase, share}',
        ),
        { description: 'login storms: [{phase: flash-spike, share: 100%}]' },
      ),
    ),
  },
  'sessions: {feeder, login, refresh, renewBefore, ttl, storms}',
);

export interface SessionStorm {
  phase: string;
  /** ms since the start of the run */
  atMs: number;
  share: number;
}

/** The compiled `sessions:` section. */
export interface SessionsSpec {
  feeder: string;
  /** the login journey; its first step signs in */
  login: string;
  refresh: { method: string; path: string; endpoint: string } | undefined;
  renewBeforeMs: number;
  ttlMs: number | undefined;
  storms: SessionStorm[];
}

/** Whether a step sends {{session.…}}. */
export function usesSession(step: Pick<Step, 'path' | 'headers' | 'json'>): boolean {
  const refs = [...placeholderRefs(step.path), ...step.headers.flatMap(([, t]) => placeholderRefs(t)), ...(step.json ? jsonPlaceholderRefs(step.json) : [])];
  return refs.some((r) => r[0] === SESSION_VAR);
}

export function compileSessions(
  raw: Static<typeof SessionsSchema>,
  profile: { feeders: Record<string, FeederSpec>; journeys: Journey[]; phases: Phase[] },
  compiler: ProfileCompiler,
): SessionsSpec {
  const at: PathKey[] = ['sessions'];
  const users = Object.keys(profile.feeders).filter((n) => profile.feeders[n]!.type === 'users');
  const feeder = raw.feeder ?? (users.length === 1 ? users[0]! : '');
  if (raw.feeder !== undefined && profile.feeders[raw.feeder]?.type !== 'users') {
    compiler.add([...at, 'feeder'], `"${raw.feeder}" is not a users feeder`, users.length ? `use one of ${users.join(', ')}` : 'define one under feeders: (type: users, count: N)');
  } else if (!feeder) {
    compiler.add(at, users.length ? `there are ${users.length} users feeders (${users.join(', ')}): which accounts keep sessions?` : 'sessions need a users feeder', users.length ? `add feeder: ${users[0]}` : 'define one under feeders: (type: users, count: N)');
  }
  const names = profile.journeys.map((j) => j.name);
  const login = profile.journeys.find((j) => j.name === raw.login);
  if (!login) compiler.add([...at, 'login'], `names the unknown journey "${raw.login}"${didYouMean(raw.login, names)}`, `use one of the journeys: ${names.join(', ')}`);
  else {
    const first = login.steps[0]!;
    if (usesSession(first)) compiler.add([...at, 'login'], `the first step of "${login.name}" sends {{session.token}}: it cannot sign in with the session it makes`, 'make the login request (POST /api/users/login with the account’s email and password) the journey’s first step');
    const refs = [...placeholderRefs(first.path), ...first.headers.flatMap(([, t]) => placeholderRefs(t)), ...(first.json ? jsonPlaceholderRefs(first.json) : [])];
    if (feeder && !refs.some((r) => r[0] === feeder)) {
      compiler.add([...at, 'login'], `the first step of "${login.name}" uses no field of the feeder "${feeder}": whose session would it be?`, `sign in as {{${feeder}.email}} with {{${feeder}.password}}`);
    }
    // Its answer is read (the token), whatever the step captures.
    first.needsResponse = true;
  }
  let refresh: SessionsSpec['refresh'];
  if (raw.refresh !== undefined) {
    const m = /^([A-Z]+)\s+(\/\S*)$/.exec(raw.refresh.trim());
    if (!m) compiler.add([...at, 'refresh'], `"${raw.refresh}" is not "METHOD /path"`, 'write it like refresh: POST /api/users/refresh');
    else refresh = { method: m[1]!, path: m[2]!, endpoint: `${m[1]} ${m[2]!.split('?')[0]}` };
  }
  const phaseNames = profile.phases.map((p) => p.name);
  const storms = (raw.storms ?? []).map((s, i): SessionStorm => {
    const phase = profile.phases.find((p) => p.name === s.phase);
    if (!phase) compiler.add([...at, 'storms', i, 'phase'], `names the unknown phase "${s.phase}"${didYouMean(s.phase, phaseNames)}`, `use one of the phases: ${phaseNames.join(', ')}`);
    return { phase: s.phase, atMs: phase?.startMs ?? 0, share: s.share === undefined ? 1 : compiler.ratio(s.share, [...at, 'storms', i, 'share']) };
  });
  return {
    feeder,
    login: raw.login,
    refresh,
    renewBeforeMs: raw.renewBefore === undefined ? 10_000 : compiler.duration(raw.renewBefore, [...at, 'renewBefore'], 'renewBefore'),
    ttlMs: raw.ttl === undefined ? undefined : compiler.duration(raw.ttl, [...at, 'ttl'], 'the token lifetime', true),
    storms,
  };
}

// --- the store ------------------------------------------------------------------------------------

export interface Session {
  token: string;
  refreshToken: string | undefined;
  /** performance.now() time after which the token is not used (renewBefore taken off); Infinity when it does not expire */
  renewAt: number;
  /** performance.now() time it was made */
  madeAt: number;
}

/** What a login or refresh answer holds: {token, expiresIn (seconds), refreshToken}. */
export function sessionFromAnswer(body: string | undefined, now: number, spec: SessionsSpec): Session | undefined {
  let json: { token?: unknown; refreshToken?: unknown; expiresIn?: unknown };
  try {
    json = body ? (JSON.parse(body) as typeof json) : {};
  } catch {
    return undefined;
  }
  if (typeof json?.token !== 'string' || !json.token) return undefined;
  const lifeMs = typeof json.expiresIn === 'number' && json.expiresIn > 0 ? json.expiresIn * 1000 : spec.ttlMs;
  return {
    token: json.token,
    refreshToken: typeof json.refreshToken === 'string' && json.refreshToken ? json.refreshToken : undefined,
    renewAt: lifeMs === undefined ? Infinity : now + Math.max(0, lifeMs - spec.renewBeforeMs),
    madeAt: now,
  };
}

/** Whether the storm drops account n's session: a fixed, seeded choice of `share` of the accounts. */
export function stormHits(seed: number, storm: number, n: number, share: number): boolean {
  if (share >= 1) return true;
  let h = Math.imul((seed ^ 0x5bd1e995) + storm * 0x27d4eb2d, 0x9e3779b1) ^ Math.imul(n + 1, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 15), 0xc2b2ae35);
  h ^= h >>> 13;
  return (h >>> 0) / 4294967296 < share;
}

/** The sessions of one process: per account (the row's n), with renewals in flight. */
export class SessionStore {
  private readonly sessions = new Map<number, Session>();
  private readonly pending = new Map<number, Array<(s: Session | undefined) => void>>();

  constructor(
    readonly spec: SessionsSpec,
    private readonly seed: number,
    /** performance.now() of the schedule's time 0 (storms are timed from it) */
    private readonly t0: number,
  ) {}

  /** Account n's session if it may be used at `now`; a session made before a storm that hit it is gone. */
  valid(n: number, now: number): Session | undefined {
    const s = this.sessions.get(n);
    if (!s) return undefined;
    if (now >= s.renewAt) return undefined;
    for (let i = 0; i < this.spec.storms.length; i++) {
      const storm = this.spec.storms[i]!;
      const at = this.t0 + storm.atMs;
      if (s.madeAt < at && now >= at && stormHits(this.seed, i, n, storm.share)) {
        this.sessions.delete(n);
        return undefined;
      }
    }
    return s;
  }

  /** The last session of account n, valid or not (its refresh token renews it). */
  last(n: number): Session | undefined {
    return this.sessions.get(n);
  }

  set(n: number, s: Session): void {
    this.sessions.set(n, s);
  }

  drop(n: number): void {
    this.sessions.delete(n);
  }

  /**
   * One renewal per account at a time (a refresh token is spent when used): the first caller
   * gets `true` and must call `settle`; later callers wait for its outcome.
   */
  begin(n: number, wait: (s: Session | undefined) => void): boolean {
    const waiting = this.pending.get(n);
    if (waiting) {
      waiting.push(wait);
      return false;
    }
    this.pending.set(n, []);
    return true;
  }

  settle(n: number, s: Session | undefined): void {
    if (s) this.sessions.set(n, s);
    else this.sessions.delete(n);
    const waiting = this.pending.get(n) ?? [];
    this.pending.delete(n);
    for (const w of waiting) w(s);
  }

  get size(): number {
    return this.sessions.size;
  }
}
