// When nothing answers at the configured MySQL address and mariadbd is installed, deploy starts a
// private server with its data under the local folder (never a system data directory), keeps its
// root password in the secrets file, and destroy stops it; a second deploy starts it again with
// the same data. A server that answers but refuses the credentials stops the deploy with a message
// that says what to set.
import t from 'tap';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort } from '../helpers/private-mariadb.js';
import { expectExit, localShop, printedUrl, recap } from '../helpers/local-shop.js';
import { alive } from '../local/fleet-harness.js';
import { mysqlServer } from '../helpers/mysql.js';

t.setTimeout(400_000);

t.test('nothing answers: a private server under the local folder', async (t) => {
  const closed = await freePort();
  const shop = await localShop(t, { env: { MYSQL_URL: `mysql://root@127.0.0.1:${closed}` } });
  const r = await shop.playbook('deploy', ['--skip-tags', 'render']);
  expectExit(t, r, 0, 'deploy');
  t.match(r.stdout, new RegExp(`nothing answers at 127\\.0\\.0\\.1:${closed}: starting a private server with its data in ${shop.dir}/mariadb`));
  const secrets = await shop.secrets();
  t.ok(secrets['mysql-admin']?.password, 'the private root password is kept in the secrets file');
  t.notMatch(r.stdout + r.stderr, secrets['mysql-admin']!.password!, 'and never printed');
  t.equal((await stat(join(shop.dir, 'secrets.json'))).mode & 0o777, 0o600, 'secrets.json is 0600');
  t.ok((await stat(join(shop.dir, 'mariadb', 'data', 'mysql'))).isDirectory(), 'its data directory is under the local folder');
  const port = Number(secrets['mysql-admin']!.port);
  t.not(port, closed);
  t.equal(Number(secrets['db-catalog']!.port), port, 'services are pointed at the private server');
  const url = printedUrl(r.stdout);
  const res = await fetch(new URL('/api/catalog/products?limit=1', url));
  t.equal(res.status, 200, 'the shop answers on the private server');

  const again = await shop.playbook('deploy', ['--skip-tags', 'render']);
  expectExit(t, again, 0, 'second deploy');
  t.equal(recap(again.stdout).changed, 0, 'a second deploy changes nothing');

  const pid = Number(/running \(pid (\d+)\) on 127\.0\.0\.1/.exec((await shop.playbook('status')).stdout)?.[1]);
  t.ok(pid > 0, 'status shows the private server');
  const d = await shop.playbook('destroy');
  expectExit(t, d, 0, 'destroy');
  t.match(d.stdout, /changed: \[stop private database server\] stopped pid/);
  t.same(alive([pid]), [], 'destroy stopped the private server');

  const third = await shop.playbook('deploy', ['--skip-tags', 'render']);
  expectExit(t, third, 0, 'deploy after destroy');
  t.match(third.stdout, /changed: \[database server\] private server started/);
  t.match(third.stdout, /ok: \[seed catalog\] 0 product\(s\) inserted/, 'the data survived');
});

t.test('a server that refuses the credentials: a message, nothing started', async (t) => {
  const s = mysqlServer();
  const shop = await localShop(t, { env: { MYSQL_URL: `mysql://nobody-${process.pid}:wrong@${s.host}:${s.port}` } });
  const r = await shop.playbook('deploy', ['--skip-tags', 'render']);
  expectExit(t, r, 2, 'deploy');
  t.match(r.stdout, /failed: \[database server\] the server at .* answers but it refused the credentials of nobody-\d+: set MYSQL_URL=mysql:\/\/<admin user>:<password>@/);
  t.notMatch(r.stdout + r.stderr, /wrong/, 'the password given is not echoed');
  t.notMatch(r.stdout, /fleet supervisor/, 'the play stopped there');
});
