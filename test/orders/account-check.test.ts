// orders' account check against a small stand-in for users' GET /api/users/accounts/:id, through
// the real service client: answers are kept for the cache time, concurrent checks of one account
// share one call, a deleted account is refused, and a users outage does not stop checkouts.
import t from 'tap';
import { createServer, type Server } from 'node:http';
import { pino } from 'pino';
import { AccountCheck } from '../../services/orders/account-check.js';
import { ServiceClient } from '../../services/kit/service-client.js';

interface Users {
  url: string;
  calls: string[];
  accounts: Set<string>;
  server: Server;
}

async function users(): Promise<Users> {
  const u: Users = { url: '', calls: [], accounts: new Set(['1', '2']), server: createServer() };
  u.server.on('request', (req, res) => {
    u.calls.push(`${req.url} ${String(req.headers['x-service-token'])}`);
    const id = decodeURIComponent((req.url ?? '').split('/').pop() ?? '');
    const found = u.accounts.has(id);
    res.writeHead(found ? 200 : 404, { 'content-type': 'application/json' }).end(JSON.stringify(found ? { id, role: 'customer' } : { code: 'NOT_FOUND', message: 'no such account' }));
  });
  await new Promise<void>((r) => u.server.listen(0, '127.0.0.1', r));
  u.url = `http://127.0.0.1:${(u.server.address() as { port: number }).port}`;
  t.teardown(() => new Promise<void>((r) => u.server.close(() => r())));
  return u;
}

function check(url: string, cacheMs: number): { accounts: AccountCheck; warnings: string[] } {
  const warnings: string[] = [];
  const log = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(line) });
  const http = new ServiceClient({ name: 'users', baseUrl: url, retries: 0, headers: () => ({ 'x-service-token': 'cred' }) });
  t.teardown(() => http.close());
  return { accounts: new AccountCheck(http, cacheMs, log), warnings };
}

t.test('concurrent checks of one account make one call; answers are kept for the cache time', async (t) => {
  const u = await users();
  const { accounts } = check(u.url, 60_000);
  await Promise.all(Array.from({ length: 20 }, () => accounts.require('1')));
  t.same(u.calls, ['/api/users/accounts/1 cred'], 'one call, with the service credential');
  await accounts.require('1');
  t.equal(u.calls.length, 1, 'a known account is not asked again within the cache time');
  u.accounts.delete('1');
  await accounts.require('1');
  t.equal(u.calls.length, 1, 'a deletion shows once the cached answer expires, not before');
});

t.test('a deleted or unknown account is refused with 401 ACCOUNT_GONE', async (t) => {
  const u = await users();
  const { accounts } = check(u.url, 0);
  await accounts.require('2');
  u.accounts.delete('2');
  await t.rejects(accounts.require('2'), { statusCode: 401, code: 'ACCOUNT_GONE' }, 'with no cache, at once');
  await t.rejects(accounts.require('not-a-user'), { statusCode: 401, code: 'ACCOUNT_GONE' });
  t.equal(u.calls.length, 3);
});

t.test('when users cannot answer, the token is trusted and a warning logged', async (t) => {
  const u = await users();
  const url = u.url;
  await new Promise<void>((r) => u.server.close(() => r()));
  const { accounts, warnings } = check(url, 60_000);
  await t.resolves(accounts.require('1'));
  t.match(warnings.join(''), /users did not answer an account check; the token is trusted/);
});
