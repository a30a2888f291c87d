// The private mariadbd the local target starts when no server answers: it runs with a minimal
// environment, so a MYSQL_URL with a password (or any other secret) in the deploying shell's
// environment does not show in its /proc/<pid>/environ.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serverPrograms, startPrivateServer, stopPrivateServer } from '../../playbooks/lib/local/mysql-server.js';

const SECRET_URL = 'mysql://root:secret-in-the-shell@127.0.0.1:3306/saleday';
// tap's process tracking adds itself to every spawn under test, whatever env the caller gives.
const tapHook = (k: string) => k === 'NODE_OPTIONS' || k.startsWith('_TAPJS_');

t.test('the private database server does not inherit the deploying shell environment', { skip: serverPrograms() ? false : 'mariadbd is not installed' }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'sdm-'));
  const before = { MYSQL_URL: process.env.MYSQL_URL, AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY };
  process.env.MYSQL_URL = SECRET_URL;
  process.env.AWS_SECRET_ACCESS_KEY = 'shell-aws-secret';
  t.teardown(async () => {
    for (const [k, v] of Object.entries(before)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    await stopPrivateServer(dir);
    await rm(dir, { recursive: true, force: true });
  });
  const { pid } = await startPrivateServer(dir);
  const env = Object.fromEntries(
    readFileSync(`/proc/${pid}/environ`, 'utf8')
      .split('\0')
      .filter((e) => e.includes('='))
      .map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]),
  );
  t.equal(env.PATH, process.env.PATH, 'it gets PATH');
  t.equal(env.MYSQL_URL, undefined, 'no MYSQL_URL');
  t.equal(env.AWS_SECRET_ACCESS_KEY, undefined, 'no AWS key');
  t.same(Object.keys(env).filter((k) => !tapHook(k) && !['PATH', 'HOME', 'TMPDIR', 'TZ', 'LANG', 'SYSTEMROOT', 'SALEDAY_LOCAL_SHOP', 'SALEDAY_LOCAL_ROLE'].includes(k)), [], 'nothing beyond the minimal environment and the shop marker');
  t.equal(env.SALEDAY_LOCAL_ROLE, 'database', 'marked as the shop database server');
  t.notOk(/secret-in-the-shell|shell-aws-secret/.test(JSON.stringify(env)), 'no secret of the deploying shell');
});
