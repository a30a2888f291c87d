// The checkout's three services (and users, on request) against real MariaDB, each with its own
// throwaway database as in production (one database per service), sharing one JWT key pair and
// one service credential:
// catalog and inventory in-process, orders in-process or as a real process (`node
// dist/services/orders/main.js`) for crash tests. Pools are kept small: tap runs two files at once
// against one server.
import type mysql from 'mysql2/promise';
import { readFile } from 'node:fs/promises';
import type { RunningService } from '../../services/kit/service.js';
import { catalogService } from '../../services/catalog/service.js';
import { createOrdersService } from '../../services/orders/service.js';
import { usersService } from '../../services/users/service.js';
import type { PaymentStep } from '../../services/orders/payment.js';
import { client } from './http.js';
import { putStock, serviceCredential, startInventory, stockOf, type StockRow } from './inventory.js';
import { testDatabase, type TestDatabase, type TestTap } from './mysql.js';
import { serviceEnv, spawnService, type SpawnedService } from './processes.js';
import { startTestService } from './service.js';
import { signToken } from './tokens.js';

export interface ShopOptions {
  /** Extra environment for orders (also for spawned ones) and inventory. */
  ordersEnv?: Record<string, string>;
  inventoryEnv?: Record<string, string>;
  /** A payment step for the in-process orders service. */
  payment?: PaymentStep;
  /** Start no orders service (a test spawns its own with spawnOrders). */
  withoutOrders?: boolean;
  /** Also start users (same key pair and service credential) and point orders at it (USERS_URL). */
  withUsers?: boolean;
}

export interface TestShop {
  dbs: { catalog: TestDatabase; inventory: TestDatabase; orders: TestDatabase };
  catalog: RunningService<unknown>;
  inventory: RunningService<unknown>;
  orders: RunningService<unknown> | undefined;
  /** With `withUsers`: the users service and its database. */
  users: { service: RunningService<unknown>; db: TestDatabase } | undefined;
  serviceToken: string;
  /** The orders API of the in-process orders service. */
  api: ReturnType<typeof client>;
  customer(id: string | number): Promise<string>;
  admin(id?: string | number): Promise<string>;
  /** Creates a product in the catalog (through its admin API) and sets its stock. */
  addProduct(sku: string, priceCents: number, stock: number, currency?: string): Promise<void>;
  stock(sku: string): Promise<StockRow>;
  /** The environment that starts orders as a process against this shop. */
  ordersProcessEnv(extra?: Record<string, string>): Record<string, string>;
  spawnOrders(extra?: Record<string, string>): Promise<SpawnedService>;
}

export async function startTestShop(t: TestTap, opts: ShopOptions = {}): Promise<TestShop> {
  const catalogDb = await testDatabase(t, 'shopcat');
  const inventoryDb = await testDatabase(t, 'shopinv');
  const ordersDb = await testDatabase(t, 'shopord');
  // One key pair for the whole shop, as the users service would sign with.
  const secrets = JSON.parse(await readFile(catalogDb.secretsFile, 'utf8')) as Record<string, unknown>;
  for (const db of [inventoryDb, ordersDb]) {
    await db.setSecret('jwt', secrets.jwt);
    await db.setSecret('jwt-public', secrets['jwt-public']);
  }
  const credential = await serviceCredential(inventoryDb);
  await ordersDb.setSecret('service-credential', { token: credential.token });

  let users: TestShop['users'];
  if (opts.withUsers) {
    const usersDb = await testDatabase(t, 'shopusr');
    await usersDb.setSecret('jwt', secrets.jwt);
    await usersDb.setSecret('jwt-public', secrets['jwt-public']);
    await usersDb.setSecret('service-credential', { token: credential.token });
    const service = await startTestService(t, usersService, usersDb, {
      DB_POOL_MAX: '4',
      SCRYPT_LOG_N: '14',
      SERVICE_CREDENTIAL_SECRET: `file:${usersDb.secretsFile}#service-credential`,
    });
    users = { service, db: usersDb };
  }
  const catalog = await startTestService(t, catalogService, catalogDb, { DB_POOL_MAX: '4' });
  const inventory = await startInventory(t, inventoryDb, credential.ref, { DB_POOL_MAX: '6', ...opts.inventoryEnv });
  const ordersEnv = (extra: Record<string, string> = {}): Record<string, string> => ({
    SERVICE_CREDENTIAL_SECRET: `file:${ordersDb.secretsFile}#service-credential`,
    CATALOG_URL: catalog.url,
    INVENTORY_URL: inventory.url,
    ...(users ? { USERS_URL: users.service.url } : {}),
    DB_POOL_MAX: '8',
    // Generous: the machine is shared and a test asserts behaviour, not speed.
    UPSTREAM_TIMEOUT_MS: '30000',
    ...opts.ordersEnv,
    ...extra,
  });
  const orders = opts.withoutOrders
    ? undefined
    : await startTestService(t, createOrdersService({ payment: opts.payment }), ordersDb, ordersEnv());

  const adminToken = await signToken(catalogDb, 'admin', { id: 'shop-admin' });
  const catalogApi = client(catalog.url);
  const addProduct = async (sku: string, priceCents: number, stock: number, currency = 'EUR'): Promise<void> => {
    const product = { sku, name: `Product ${sku}`, priceCents, currency, category: 'kitchen', imagePath: `/images/${sku.toLowerCase()}.jpg` };
    let res = await catalogApi.post('/api/catalog/products', product, { token: adminToken });
    if (res.body?.code === 'UNKNOWN_CATEGORY') {
      await catalogApi.post('/api/catalog/categories', { slug: 'kitchen', name: 'Kitchen' }, { token: adminToken });
      res = await catalogApi.post('/api/catalog/products', product, { token: adminToken });
    }
    if (res.status !== 201) throw new Error(`could not create ${sku} in the catalog: ${res.status} ${res.text}`);
    await putStock(inventoryDb.sql, sku, stock);
  };
  return {
    dbs: { catalog: catalogDb, inventory: inventoryDb, orders: ordersDb },
    catalog,
    inventory,
    orders,
    users,
    serviceToken: credential.token,
    api: client(orders?.url ?? 'http://127.0.0.1:9'),
    customer: (id) => signToken(ordersDb, 'customer', { id: String(id), email: `customer${id}@example.com` }),
    admin: (id = 'admin') => signToken(ordersDb, 'admin', { id: String(id), email: `${id}@example.com` }),
    addProduct,
    stock: (sku) => stockOf(inventoryDb.sql, sku),
    ordersProcessEnv: (extra) => serviceEnv(ordersDb, ordersEnv(extra)),
    spawnOrders: (extra) => spawnService(t, 'orders', serviceEnv(ordersDb, ordersEnv(extra))),
  };
}

/** Rows of a query on one of the shop's databases. */
export async function rows(sql: mysql.Connection, query: string, params: unknown[] = []): Promise<Array<Record<string, any>>> {
  const [result] = await sql.query(query, params);
  return result as Array<Record<string, any>>;
}
