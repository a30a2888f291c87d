// Expired refresh tokens are purged by every users instance in the background: rows expired
// longer ago than the grace go (spent, revoked or unused alike), a just-expired one stays, live
// sessions are untouched.
import t from 'tap';
import { usersService } from '../../services/users/service.js';
import { testDatabase } from '../helpers/mysql.js';
import { startTestService } from '../helpers/service.js';
import { client } from '../helpers/http.js';
import { waitUntil } from '../helpers/processes.js';

const db = await testDatabase(t, 'userspurge');
const svc = await startTestService(t, usersService, db, { SCRYPT_LOG_N: '14', REFRESH_PURGE_INTERVAL_MS: '50', REFRESH_PURGE_GRACE_SECONDS: '3600' });
const api = client(svc.url);
const PASSWORD = 'plum-harbour-velvet-42';

async function session(email: string): Promise<{ id: string; refreshToken: string }> {
  const reg = await api.post('/api/users/register', { email, password: PASSWORD, name: 'Sam' });
  const res = await api.post('/api/users/login', { email, password: PASSWORD });
  return { id: reg.body.id, refreshToken: res.body.refreshToken };
}
const rowsOf = async (userId: string): Promise<number> => {
  const [[row]] = (await db.sql.query('SELECT COUNT(*) AS n FROM refresh_tokens WHERE user_id = ?', [userId])) as unknown as [[{ n: number }]];
  return Number(row.n);
};

t.test('tokens expired beyond the grace are purged, the rest stay', async (t) => {
  const old = await session('old@example.com');
  // A spent token and its successor, both long expired.
  const next = (await api.post('/api/users/refresh', { refreshToken: old.refreshToken })).body.refreshToken as string;
  t.ok(next, 'refreshed once');
  t.equal(await rowsOf(old.id), 2, 'the spent token and its successor');
  const recent = await session('recent@example.com');
  const live = await session('live@example.com');
  // The purge loop runs every 50 ms: from here on the old rows may go at any moment.
  await db.sql.query('UPDATE refresh_tokens SET expires_at = NOW(3) - INTERVAL 2 HOUR WHERE user_id = ?', [old.id]);
  await db.sql.query('UPDATE refresh_tokens SET expires_at = NOW(3) - INTERVAL 10 MINUTE WHERE user_id = ?', [recent.id]);

  await waitUntil(async () => (await rowsOf(old.id)) === 0, 'the long-expired tokens to be purged', 10_000, 50);
  t.equal(await rowsOf(recent.id), 1, 'expired within the grace: kept');
  t.equal(await rowsOf(live.id), 1, 'a live session: kept');
  t.equal((await api.post('/api/users/refresh', { refreshToken: recent.refreshToken })).status, 401, 'a just-expired token is refused');
  t.equal((await api.post('/api/users/refresh', { refreshToken: live.refreshToken })).status, 200, 'the live session refreshes');
  t.equal((await api.post('/api/users/refresh', { refreshToken: next })).status, 401, 'a purged token is refused');
});

t.test('purgeExpired deletes in batches of the size asked', async (t) => {
  const { RefreshTokens } = await import('../../services/users/refresh-tokens.js');
  const s = await session('batch@example.com');
  for (let i = 0; i < 4; i++) await api.post('/api/users/login', { email: 'batch@example.com', password: PASSWORD });
  t.equal(await rowsOf(s.id), 5);
  await db.sql.query('UPDATE refresh_tokens SET expires_at = NOW(3) - INTERVAL 3 DAY WHERE user_id = ?', [s.id]);
  // A second instance's purge, beside the service's own loop: together they leave nothing.
  const other = new RefreshTokens(svc.ctx.db, 60);
  const first = await other.purgeExpired(2, 86_400);
  t.ok(first <= 2, `one batch deleted ${first} (at most 2)`);
  await waitUntil(async () => (await rowsOf(s.id)) === 0, 'every expired token to be purged', 10_000, 50);
});
