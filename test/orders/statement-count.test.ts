// The cost of one checkout, counted on the wire so it cannot creep back: every command mysql2
// sends (Sequelize's queries, transaction statements and raw mysql2 statements alike, counted at
// mysql2's Connection#addCommand, per database, so per service) and every HTTP call orders makes
// to another service (undici's diagnostics channel). Checkouts run one at a time, each reservation
// its own batch: the worst case per checkout (under load, reservations share batches). The
// figures are in services/orders/README.md ("What one checkout costs").
import t from 'tap';
import { randomUUID } from 'node:crypto';
import { subscribe } from 'node:diagnostics_channel';
import { createRequire } from 'node:module';
import { Sequelize } from 'sequelize';
import { startTestShop } from '../helpers/shop.js';

interface Counts {
  statements: number;
  transactions: number;
  /** durable commits: transactions and writes outside one (autocommit), each a log flush */
  commits: number;
  prepares: number;
}

interface MysqlConnection {
  config: { database?: string };
}
interface MysqlCommand {
  constructor: { name: string };
  sql?: string;
}

const byDatabase = new Map<string, Counts>();
let counting = false;
const inTransaction = new WeakSet<object>();
const require = createRequire(import.meta.url);
// Every connection class of mysql2 (plain, pooled, promise) sends through this one method.
const base = Object.getPrototypeOf((require('mysql2') as { Connection: { prototype: object } }).Connection.prototype) as { addCommand: (this: MysqlConnection, cmd: MysqlCommand) => unknown };
const addCommand = base.addCommand;
base.addCommand = function (this: MysqlConnection, cmd: MysqlCommand) {
  if (counting) {
    const kind = cmd.constructor.name;
    const c = byDatabase.get(this.config.database ?? '') ?? { statements: 0, transactions: 0, commits: 0, prepares: 0 };
    const sql = cmd.sql ?? '';
    if (process.env.SHOW_SQL) process.stderr.write(`${this.config.database} ${kind} ${(cmd.sql ?? '').replace(/\s+/g, ' ').slice(0, 90)}\n`);
    if (kind === 'Query' || kind === 'Execute') {
      c.statements += 1;
      if (/^\s*(START TRANSACTION|BEGIN)\b/i.test(sql)) {
        c.transactions += 1;
        c.commits += 1;
        inTransaction.add(this);
      } else if (/^\s*(COMMIT|ROLLBACK)\b/i.test(sql)) inTransaction.delete(this);
      else if (/^\s*(INSERT|UPDATE|DELETE|REPLACE)\b/i.test(sql) && !inTransaction.has(this)) c.commits += 1;
    } else if (kind === 'Prepare') c.prepares += 1;
    byDatabase.set(this.config.database ?? '', c);
  }
  return addCommand.call(this, cmd);
};
t.teardown(() => {
  base.addCommand = addCommand;
});

// Statements that went through sequelize.query() (its options merging, retry wrapper, hooks and
// result post-processing): the hot paths go around it (services/kit/sql.ts), so none per checkout.
const viaSequelize = new Map<string, number>();
const sequelizeProto = Sequelize.prototype as unknown as { query: (this: Sequelize, ...args: unknown[]) => unknown };
const sequelizeQuery = sequelizeProto.query;
sequelizeProto.query = function (this: Sequelize, ...args: unknown[]) {
  const db = (this as unknown as { config: { database: string } }).config.database;
  if (counting) viaSequelize.set(db, (viaSequelize.get(db) ?? 0) + 1);
  return sequelizeQuery.apply(this, args);
};
t.teardown(() => {
  sequelizeProto.query = sequelizeQuery;
});

const calls = new Map<string, number>();
subscribe('undici:request:create', (message) => {
  if (!counting) return;
  const { request } = message as { request: { origin: string; path: string; method: string } };
  if (request.origin === shop.orders!.url) return; // the test's own call to orders
  const what = `${request.method} ${request.path.replace(/[0-9a-f-]{36}/, ':id').replace(/SKU-\d+|CNT-\d+/, ':sku')}`;
  calls.set(what, (calls.get(what) ?? 0) + 1);
});

// No background work during the count: the expiry sweeper and the pending-order reconciler idle.
function resetCounts(): void {
  byDatabase.clear();
  viaSequelize.clear();
  calls.clear();
}

const shop = await startTestShop(t, { inventoryEnv: { SWEEP_INTERVAL_MS: '600000' }, ordersEnv: { RECONCILE_INTERVAL_MS: '600000' } });
const customer = await shop.customer('counted');
const N = 10;
for (let i = 0; i < N; i++) await shop.addProduct(`CNT-${i}`, 100 + i, 50);
const checkout = (sku: string) => shop.api.post('/api/orders', { items: [{ sku, qty: 1 }] }, { token: customer, headers: { 'idempotency-key': randomUUID() } });

t.test('one checkout: statements, transactions and calls per service', async (t) => {
  // Warm up: connections opened, statements prepared, caches filled.
  t.equal((await checkout('CNT-0')).status, 201);
  counting = true;
  for (let i = 0; i < N; i++) {
    const res = await checkout(`CNT-${i}`);
    t.equal(res.status, 201, res.text);
  }
  counting = false;
  const per = (db: string): Counts => perCheckout(db, N);
  const orders = per(shop.dbs.orders.name);
  const inventory = per(shop.dbs.inventory.name);
  const catalog = per(shop.dbs.catalog.name);
  const httpCalls = [...calls].map(([k, v]) => [k, v / N] as const);
  t.comment(`per checkout: orders ${JSON.stringify(orders)}, inventory ${JSON.stringify(inventory)}, catalog ${JSON.stringify(catalog)}`);
  t.comment(`HTTP calls from orders per checkout: ${JSON.stringify(Object.fromEntries(httpCalls))}`);
  // The budget (services/orders/README.md): raise it only with a reason written there.
  t.ok(orders.statements <= BUDGET.orders.statements, `orders: ${orders.statements} statements per checkout (budget ${BUDGET.orders.statements})`);
  t.ok(orders.commits <= BUDGET.orders.commits, `orders: ${orders.commits} commits per checkout (budget ${BUDGET.orders.commits})`);
  t.ok(orders.transactions <= BUDGET.orders.transactions, `orders: ${orders.transactions} transactions per checkout (budget ${BUDGET.orders.transactions})`);
  t.ok(inventory.transactions <= BUDGET.inventory.transactions, `inventory: ${inventory.transactions} transactions per checkout (budget ${BUDGET.inventory.transactions})`);
  for (const db of [shop.dbs.orders.name, shop.dbs.inventory.name]) t.equal(viaSequelize.get(db) ?? 0, 0, `${db}: no statement of a checkout goes through sequelize.query()`);
  t.ok(inventory.statements <= BUDGET.inventory.statements, `inventory: ${inventory.statements} statements per checkout (budget ${BUDGET.inventory.statements})`);
  t.ok(inventory.commits <= BUDGET.inventory.commits, `inventory: ${inventory.commits} commits per checkout (budget ${BUDGET.inventory.commits})`);
  const totalCalls = httpCalls.reduce((a, [, v]) => a + v, 0);
  t.ok(totalCalls <= BUDGET.httpCalls, `orders made ${totalCalls} HTTP calls per checkout (budget ${BUDGET.httpCalls})`);
});

t.test('checkouts arriving together share inventory transactions (group commit)', async (t) => {
  const together = 30;
  resetCounts();
  counting = true;
  const answers = await Promise.all(Array.from({ length: together }, (_, i) => checkout(`CNT-${i % N}`)));
  counting = false;
  t.same(answers.map((a) => a.status), answers.map(() => 201));
  const inventory = perCheckout(shop.dbs.inventory.name, together);
  const orders = perCheckout(shop.dbs.orders.name, together);
  t.comment(`per checkout, ${together} at once: orders ${JSON.stringify(orders)}, inventory ${JSON.stringify(inventory)}`);
  t.ok(inventory.commits < BUDGET.inventory.commits, `inventory: ${inventory.commits} commits per checkout (fewer than one at a time: ${BUDGET.inventory.commits})`);
  t.ok(inventory.statements < BUDGET.inventory.statements, `inventory: ${inventory.statements} statements per checkout`);
});

function perCheckout(db: string, n: number): Counts {
  const c = byDatabase.get(db) ?? { statements: 0, transactions: 0, commits: 0, prepares: 0 };
  return { statements: c.statements / n, transactions: c.transactions / n, commits: c.commits / n, prepares: c.prepares / n };
}

const BUDGET = {
  orders: { statements: 7, transactions: 1, commits: 3 },
  inventory: { statements: 12, transactions: 2, commits: 2 },
  httpCalls: 3,
};
