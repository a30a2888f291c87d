// The raw read pools under a password rotation: reads already waiting on the pool that the
// rotation retires (queued behind its connections, or connecting with the old password) are
// answered from the new pool, not failed with mysql2's "Pool is closed.".
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { RawReader } from '../../services/kit/raw-read.js';
import { SecretSource } from '../../services/kit/secrets.js';
import { rotatableUser, testDatabase } from '../helpers/mysql.js';

const db = await testDatabase(t, 'rawread');
const first = randomBytes(12).toString('base64url');
const user = await rotatableUser(t, db, 'sd_rr', 'SELECT', first);
const { setPassword, writeSecret } = user;
await db.sql.query('CREATE TABLE items (id INT PRIMARY KEY, name VARCHAR(20))');
await db.sql.query("INSERT INTO items VALUES (1, 'one'), (2, 'two')");

for (const poolMax of [1, 3]) {
  t.test(`pool of ${poolMax}: twelve concurrent reads across a rotation all answer`, async (t) => {
    await setPassword(first);
    await writeSecret(first);
    const reader = new RawReader({ secret: new SecretSource(db.refs.db), poolMax, tls: 'off', readHosts: [] });
    t.teardown(() => reader.close());
    t.same(await reader.rows('SELECT name FROM items WHERE id = ?', [1]), [{ name: 'one' }], 'reads before the rotation');

    const second = randomBytes(12).toString('base64url');
    await setPassword(second);
    await writeSecret(second);
    for (const id of await user.connections()) await user.admin.query(`KILL CONNECTION ${Number(id)}`);

    const reads = await Promise.allSettled(Array.from({ length: 12 }, (_, i) => reader.rows<{ name: string }>('SELECT name FROM items WHERE id = ?', [(i % 2) + 1])));
    const failures = reads.filter((r) => r.status === 'rejected').map((r) => String((r).reason));
    t.same(failures, [], 'no read failed');
    t.same(
      reads.map((r) => (r.status === 'fulfilled' ? r.value[0]?.name : undefined)),
      Array.from({ length: 12 }, (_, i) => (i % 2 === 0 ? 'one' : 'two')),
      'every read answered its row',
    );
  });
}
