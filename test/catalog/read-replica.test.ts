// Reads go to the read replica when DB_READ_HOSTS names one; writes go to the primary. The
// "replica" is a private MariaDB holding a copy of the catalog whose prices differ, so every
// answer shows which server it came from (as replication lag would).
import t from 'tap';
import { catalogService } from '../../services/catalog/service.js';
import { seedCatalog } from '../../services/catalog/seeder.js';
import { seedProduct } from '../../services/catalog/seed-data.js';
import { migrations } from '../../services/catalog/migrations/index.js';
import { connectDatabase } from '../../services/kit/db.js';
import { migrateUp } from '../../services/kit/migrate.js';
import { SecretSource } from '../../services/kit/secrets.js';
import { testDatabase } from '../helpers/mysql.js';
import { startPrivateMariadb } from '../helpers/private-mariadb.js';
import { startTestService } from '../helpers/service.js';
import { client } from '../helpers/http.js';
import { signToken } from '../helpers/tokens.js';

t.test('product reads come from the replica, writes go to the primary', async (t) => {
  const primary = await testDatabase(t, 'catprimary');
  const replica = await startPrivateMariadb(t);
  // The replica: the same database name and schema, seeded, then "lagging" on one price.
  const root = await replica.connect();
  await root.query(`CREATE DATABASE \`${primary.name}\` CHARACTER SET utf8mb4`);
  await root.end();
  await primary.setSecret('replica', { engine: 'mysql', host: replica.host, port: replica.port, username: 'root', password: '', dbname: primary.name });
  const replicaDb = await connectDatabase({ secret: new SecretSource(`file:${primary.secretsFile}#replica`), poolMax: 2 });
  t.teardown(() => replicaDb.close());
  await migrateUp(replicaDb.sequelize, migrations);
  await seedCatalog(replicaDb, 5);
  await replicaDb.sequelize.query("UPDATE products SET price_cents = 1 WHERE sku = 'SKU-000001'");

  const svc = await startTestService(t, catalogService, primary, { DB_READ_HOSTS: `${replica.host}:${replica.port}`, CATALOG_CACHE_TTL_MS: '0' });
  await seedCatalog(svc.ctx.db, 5);
  const api = client(svc.url);

  const read = await api.get('/api/catalog/products/SKU-000001');
  t.equal(read.status, 200);
  t.equal(read.body.priceCents, 1, 'the product page read the replica');
  const listed = await api.get('/api/catalog/products?limit=1');
  t.equal(listed.body.items[0].priceCents, 1, 'the listing read the replica');
  t.equal((await api.get('/readyz')).status, 200);

  const admin = await signToken(primary, 'admin');
  const patched = await api.patch('/api/catalog/products/SKU-000002', { priceCents: 777 }, { token: admin });
  t.equal(patched.status, 200);
  t.equal(patched.body.priceCents, 777, 'the write answer comes from the primary');
  const [[row]] = (await primary.sql.query("SELECT price_cents AS p FROM products WHERE sku = 'SKU-000002'")) as unknown as [[{ p: number }]];
  t.equal(row.p, 777, 'the primary has the write');
  t.equal((await api.get('/api/catalog/products/SKU-000002')).body.priceCents, seedProduct(2).priceCents, 'the replica has not caught up yet');
});
