// Sessions: a users feeder's accounts sign in once and reuse their tokens across journeys,
// renew them when they expire (with the refresh token when the login answer has one, else by
// signing in again, one renewal per account at a time), sign in as a journey of its own weight,
// and sign in again all at once in a login storm at a phase's start. Against the fake shop, whose
// tokens expire and whose refresh tokens are spent when used, as the users service's are.
import t from 'tap';
import { parseProfile, ProfileError } from '../../loadtest/lib/profile/load.js';
import { SessionStore, stormHits, type SessionsSpec } from '../../loadtest/lib/sessions.js';
import { startFakeShop } from './fake-shop.js';
import { runInProcess } from './helpers.js';

const LOGIN = 'POST /api/users/login';

function sessionsProfile(opts: { phases: string; sessions: string; users?: number; signInWeight?: number }): string {
  return `
name: sessions
seed: 3
maxInFlight: 32
drain: 10s
phases:
${opts.phases}
feeders:
  user: { type: users, count: ${opts.users ?? 10}, prefix: sess }
  product: { type: skus, count: 100 }
setup:
  - { journey: register-user, each: user, rate: 200 }
sessions:
${opts.sessions}
journeys:
  - name: sign-in
    weight: ${opts.signInWeight ?? 10}
    steps:
      - request: POST /api/users/login
        json: { email: "{{user.email}}", password: "{{user.password}}" }
      - request: GET /api/users/me
        headers: { Authorization: "Bearer {{session.token}}" }
  - name: buyer
    weight: ${100 - (opts.signInWeight ?? 10)}
    steps:
      - request: GET /api/catalog/products/{{product.sku}}
      - request: POST /api/orders
        headers: { Authorization: "Bearer {{session.token}}", Idempotency-Key: "{{uuid}}" }
        json: { items: [{ sku: "{{product.sku}}", qty: 1 }] }
        expect: [201, 409]
  - name: register-user
    weight: 0
    steps:
      - request: POST /api/users/register
        json: { email: "{{user.email}}", password: "{{user.password}}", name: "{{user.name}}" }
        expect: [201, 409]
thresholds:
  - { metric: errorRate, max: 0% }
`;
}

t.test('accounts sign in once and reuse their token across journeys', async (t) => {
  const shop = await startFakeShop(t);
  const r = await runInProcess(sessionsProfile({ phases: '  - { name: shopping, duration: 3s, rate: 40 }', sessions: '  login: sign-in' }), shop.url, { runId: 's1' });
  const { buyer, 'sign-in': signIn } = r.recording.journeys;
  t.equal(r.passed, true, r.verdicts.map((v) => v.measured).join('; '));
  t.ok(buyer!.completed > 80, `${buyer!.completed} buyers checked out`);
  t.equal(shop.hits.get('POST /api/orders'), buyer!.completed, 'every buyer sent its checkout with a session token');
  const logins = shop.hits.get(LOGIN)!;
  t.ok(logins <= signIn!.started + 10, `${logins} logins: ${signIn!.started} sign-in journeys and at most one first sign-in per account (10)`);
  t.ok(logins < buyer!.completed / 4, 'far fewer logins than buyers');
  t.equal(r.recording.endpoints[LOGIN]!.requests, logins, 'renewals are recorded under the login endpoint');
});

t.test('expiring tokens are renewed with the refresh token, each spent once', async (t) => {
  const shop = await startFakeShop(t, { tokenTtlSeconds: 1.5, refreshTokens: true });
  const r = await runInProcess(
    sessionsProfile({ phases: '  - { name: shopping, duration: 5s, rate: 40 }', sessions: '  login: sign-in\n  refresh: POST /api/users/refresh\n  renewBefore: 500ms' }),
    shop.url,
    { runId: 's2' },
  );
  t.equal(r.passed, true, r.verdicts.map((v) => v.measured).join('; '));
  const refreshes = shop.hits.get('POST /api/users/refresh') ?? 0;
  t.ok(refreshes >= 10, `${refreshes} refreshes over 5 s of 1.5 s tokens`);
  t.equal(shop.spentRefreshes, 0, 'no refresh token was used twice (one renewal per account at a time)');
  t.equal(shop.expiredTokens, 0, 'no request went out with an expired token');
  t.equal(r.recording.endpoints['POST /api/users/refresh']!.requests, refreshes, 'refreshes are recorded as an endpoint');
  t.ok(shop.hits.get(LOGIN)! <= r.recording.journeys['sign-in']!.started + 10, 'sign-ins only for the sign-in journeys and the first use of each account');
});

t.test('without a refresh token in the answer, expiring accounts sign in again', async (t) => {
  const shop = await startFakeShop(t, { tokenTtlSeconds: 1.5 });
  const r = await runInProcess(
    sessionsProfile({ phases: '  - { name: shopping, duration: 5s, rate: 40 }', sessions: '  login: sign-in\n  refresh: POST /api/users/refresh\n  renewBefore: 500ms' }),
    shop.url,
    { runId: 's3' },
  );
  t.equal(r.passed, true, r.verdicts.map((v) => v.measured).join('; '));
  t.equal(shop.hits.get('POST /api/users/refresh') ?? 0, 0, 'no refresh was tried');
  const renewals = shop.hits.get(LOGIN)! - r.recording.journeys['sign-in']!.started;
  t.ok(renewals > 10, `${renewals} sign-ins beyond the sign-in journeys: accounts signed in again as tokens expired`);
  t.equal(shop.expiredTokens, 0, 'no request went out with an expired token');
});

t.test('a login storm: every session is dropped at the sale’s start and the accounts sign in again', async (t) => {
  const shop = await startFakeShop(t);
  const r = await runInProcess(
    sessionsProfile({ phases: '  - { name: calm, duration: 3s, rate: 30 }\n  - { name: sale, duration: 2s, rate: 30 }', sessions: '  login: sign-in\n  storms: [{ phase: sale }]', signInWeight: 2 }),
    shop.url,
    { runId: 's4' },
  );
  t.equal(r.passed, true, r.verdicts.map((v) => v.measured).join('; '));
  const perSecond = r.recording.seconds.map((s) => s.endpoints[LOGIN]?.requests ?? 0);
  const renewals = shop.hits.get(LOGIN)! - r.recording.journeys['sign-in']!.started;
  t.ok(renewals >= 16 && renewals <= 20, `${renewals} renewals: each of the 10 accounts signed in before the sale and again in it (logins per second ${perSecond.join(' ')})`);
  t.ok(perSecond[3]! >= 5 && perSecond[3]! + perSecond[4]! >= 8, 'the accounts sign in again as the sale opens');
  t.ok(perSecond[1]! + perSecond[2]! <= 4, 'and hardly at all in the calm seconds before it, when every account had its session');
});

t.test('signIn (a capacity search’s first step): every account signs in before the phases, none in them', async (t) => {
  const shop = await startFakeShop(t);
  const text = sessionsProfile({ phases: '  - { name: shopping, duration: 2s, rate: 30 }', sessions: '  login: sign-in', signInWeight: 1 });
  const profile = parseProfile(text, 'sessions.yaml');
  const sessions = new SessionStore(profile.sessions!, profile.seed, 0);
  const r = await runInProcess(text, shop.url, { runId: 's5', sessions, signIn: true });
  t.equal(r.passed, true, r.verdicts.map((v) => v.measured).join('; '));
  t.equal(sessions.size, 10, 'every account has its session');
  const inPhases = r.recording.endpoints[LOGIN]?.requests ?? 0;
  t.equal(inPhases, r.recording.journeys['sign-in']!.started, 'the only logins in the phases are the sign-in journeys');
  t.equal(shop.hits.get(LOGIN)!, 10 + inPhases, 'each account signed in once before them');
  t.ok(r.recording.journeys.buyer!.completed > 20, 'and the buyers used those sessions');
});

const spec = (storms: SessionsSpec['storms']): SessionsSpec => ({ feeder: 'user', login: 'sign-in', refresh: undefined, renewBeforeMs: 10_000, ttlMs: undefined, storms });

t.test('the store: validity, renew-before, storms hitting a fixed share of the accounts', (t) => {
  const store = new SessionStore(spec([{ phase: 'sale', atMs: 60_000, share: 0.5 }]), 7, 1000);
  store.set(1, { token: 'a', refreshToken: undefined, renewAt: 1000 + 30_000, madeAt: 1000 });
  t.ok(store.valid(1, 20_000), 'valid before renewAt');
  t.notOk(store.valid(1, 31_000), 'renewed from renewAt on (expiresIn minus renewBefore)');
  const hit = Array.from({ length: 1000 }, (_, n) => stormHits(7, 0, n, 0.5)).filter(Boolean).length;
  t.ok(hit > 450 && hit < 550, `${hit} of 1000 accounts hit by a 50% storm`);
  t.same(Array.from({ length: 20 }, (_, n) => stormHits(7, 0, n, 0.5)), Array.from({ length: 20 }, (_, n) => stormHits(7, 0, n, 0.5)), 'the same accounts in every process');
  const n = Array.from({ length: 100 }, (_, i) => i).find((i) => stormHits(7, 0, i, 0.5))!;
  const spared = Array.from({ length: 100 }, (_, i) => i).find((i) => !stormHits(7, 0, i, 0.5))!;
  for (const a of [n, spared]) store.set(a, { token: `t${a}`, refreshToken: undefined, renewAt: Infinity, madeAt: 2000 });
  t.ok(store.valid(n, 60_999), 'before the storm');
  t.notOk(store.valid(n, 61_000), 'dropped at the storm');
  t.ok(store.valid(spared, 61_000), 'a session the storm spared stays');
  store.set(n, { token: 'again', refreshToken: undefined, renewAt: Infinity, madeAt: 61_500 });
  t.ok(store.valid(n, 70_000), 'signed in after the storm: valid');
  // one renewal at a time
  const heard: Array<string | undefined> = [];
  t.equal(store.begin(5, () => heard.push('first')), true);
  t.equal(store.begin(5, (s) => heard.push(s?.token)), false, 'a second renewal of the account waits');
  store.settle(5, { token: 'new', refreshToken: undefined, renewAt: Infinity, madeAt: 3000 });
  t.same(heard, ['new'], 'the waiting journey got the renewed session');
  t.end();
});

t.test('profiles: sessions are checked with the fix for each problem', (t) => {
  const base = sessionsProfile({ phases: '  - { name: shopping, duration: 3s, rate: 40 }', sessions: '  login: sign-in' });
  const cases: Array<[string, string, Array<{ path: string; problem: RegExp }>]> = [
    ['no sessions section', base.replace('sessions:\n  login: sign-in\n', ''), [{ path: 'journeys[0].steps[1].headers.Authorization', problem: /uses \{\{session\.token\}\}, but the profile has no sessions: section/ }, { path: 'journeys[1].steps[1].headers.Authorization', problem: /no sessions: section/ }]],
    ['unknown login journey', base.replace('login: sign-in', 'login: signin'), [{ path: 'sessions.login', problem: /unknown journey "signin" \(did you mean "sign-in"\?\)/ }]],
    ['login step without the account', base.replace('json: { email: "{{user.email}}", password: "{{user.password}}" }\n      - request: GET /api/users/me', 'json: { email: "x@y.z", password: "p" }\n      - request: GET /api/users/me'), [{ path: 'sessions.login', problem: /uses no field of the feeder "user"/ }]],
    ['bad storm and refresh', base.replace('login: sign-in', 'login: sign-in\n  refresh: /api/users/refresh\n  storms: [{ phase: spike, share: 150% }]'), [{ path: 'sessions.refresh', problem: /is not "METHOD \/path"/ }, { path: 'sessions.storms[0].phase', problem: /unknown phase "spike"/ }, { path: 'sessions.storms[0].share', problem: /not a ratio/ }]],
    ['a setup journey that needs a session', base.replace('{ journey: register-user, each: user, rate: 200 }', '{ journey: buyer, each: user }'), [{ path: 'setup[0].journey', problem: /"buyer" sends \{\{session\.token\}\}, but setup runs before any account has signed in/ }]],
    ['a field the session has not', base.replace('Bearer {{session.token}}", Idempotency', 'Bearer {{session.jwt}}", Idempotency'), [{ path: 'journeys[1].steps[1].headers.Authorization', problem: /\{\{session\.jwt\}\} names no field of the session/ }]],
  ];
  for (const [name, text, problems] of cases) {
    try {
      parseProfile(text, 'sessions.yaml');
      t.fail(`${name}: accepted`);
    } catch (err) {
      t.ok(err instanceof ProfileError, name);
      t.match((err as ProfileError).problems, problems, name);
    }
  }
  const ok = parseProfile(base.replace('login: sign-in', 'login: sign-in\n  refresh: POST /api/users/refresh\n  storms: [{ phase: shopping, share: 30% }]'), 'sessions.yaml');
  t.match(ok.sessions, { feeder: 'user', login: 'sign-in', refresh: { endpoint: 'POST /api/users/refresh' }, renewBeforeMs: 10_000, storms: [{ phase: 'shopping', atMs: 0, share: 0.3 }] });
  t.end();
});
