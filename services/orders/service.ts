// The orders service: a checkout that never oversells (reserve → write order → payment step →
// commit), idempotent under retries, and the customer's view of their orders. See
// services/orders/README.md.
import { int, oneOf, secretRef, str, type Env } from '../kit/config.js';
import { ServiceClient } from '../kit/service-client.js';
import { ServiceCredential } from '../kit/service-credential.js';
import type { ServiceDefinition } from '../kit/service.js';
import { AccountCheck } from './account-check.js';
import { CatalogPrices } from './catalog-prices.js';
import { Checkout } from './checkout.js';
import { FAULTS, Faults, type Fault } from './faults.js';
import { IdempotencyKeys } from './idempotency-keys.js';
import { InventoryClient } from './inventory-client.js';
import { migrations } from './migrations/index.js';
import { OrderBook } from './order-book.js';
import { approveEveryOrder, type PaymentStep } from './payment.js';
import { startPendingReconciler } from './pending-reconciler.js';
import { registerOrderRoutes } from './routes.js';
import { declaration } from './declaration.js';

export interface OrdersConfig {
  serviceCredentialSecret: string;
  catalogUrl: string;
  inventoryUrl: string;
  /** Where users answers account checks; unset (tests of orders alone): tokens are not checked against users. */
  usersUrl: string | undefined;
  accountCacheSeconds: number;
  upstreamTimeoutMs: number;
  upstreamConnections: number;
  reservationTtlSeconds: number;
  idempotencyLeaseSeconds: number;
  reconcileIntervalMs: number;
  reconcileGraceSeconds: number;
  fault: Fault;
}

const HTTP_URL = /^https?:\/\/[^\s/]+\/?$/;

export function readOrdersConfig(env: Env): OrdersConfig {
  return {
    serviceCredentialSecret: secretRef(env, 'SERVICE_CREDENTIAL_SECRET'),
    catalogUrl: str(env, 'CATALOG_URL', { default: 'http://127.0.0.1:3002', pattern: HTTP_URL, expected: 'a base URL such as http://127.0.0.1:3002' }),
    inventoryUrl: str(env, 'INVENTORY_URL', { default: 'http://127.0.0.1:3003', pattern: HTTP_URL, expected: 'a base URL such as http://127.0.0.1:3003' }),
    usersUrl: env.USERS_URL === undefined ? undefined : str(env, 'USERS_URL', { pattern: HTTP_URL, expected: 'a base URL such as http://127.0.0.1:3001' }),
    accountCacheSeconds: int(env, 'ACCOUNT_CHECK_CACHE_SECONDS', { default: 10, min: 0, max: 300 }),
    upstreamTimeoutMs: int(env, 'UPSTREAM_TIMEOUT_MS', { default: 5000, min: 100, max: 120_000 }),
    upstreamConnections: int(env, 'UPSTREAM_CONNECTIONS', { default: 32, min: 1, max: 1024 }),
    reservationTtlSeconds: int(env, 'CHECKOUT_RESERVATION_TTL_SECONDS', { default: 300, min: 1, max: 86_400 }),
    idempotencyLeaseSeconds: int(env, 'IDEMPOTENCY_LEASE_SECONDS', { default: 60, min: 1, max: 3600 }),
    reconcileIntervalMs: int(env, 'RECONCILE_INTERVAL_MS', { default: 5000, min: 10, max: 600_000 }),
    reconcileGraceSeconds: int(env, 'RECONCILE_GRACE_SECONDS', { default: 30, min: 0, max: 3600 }),
    fault: oneOf(env, 'ORDERS_FAULT', FAULTS, 'none'),
  };
}

export interface OrdersServiceOptions {
  /** The payment step between writing an order and committing its stock (default: approve all). */
  payment?: PaymentStep;
}

export function createOrdersService(options: OrdersServiceOptions = {}): ServiceDefinition<OrdersConfig> {
  return {
    name: declaration.name,
    defaultPort: declaration.defaultPort,
    migrations,
    config: readOrdersConfig,
    async register(server, ctx) {
      const cfg = ctx.config;
      const credential = new ServiceCredential(ctx.secret(cfg.serviceCredentialSecret));
      await credential.token(); // a missing or malformed credential stops the start, not the first checkout
      const upstream = { timeoutMs: cfg.upstreamTimeoutMs, connections: cfg.upstreamConnections };
      // The catalog's product reads are public: no credential, and never the customer's token.
      const catalog = new ServiceClient({ name: 'catalog', baseUrl: cfg.catalogUrl, ...upstream });
      const inventoryHttp = new ServiceClient({ name: 'inventory', baseUrl: cfg.inventoryUrl, ...upstream, headers: () => credential.headers(), onUnauthorized: (sent) => credential.refreshAfterRefusal(sent) });
      const inventory = new InventoryClient(inventoryHttp);
      const usersHttp = cfg.usersUrl === undefined ? undefined : new ServiceClient({ name: 'users', baseUrl: cfg.usersUrl, ...upstream, headers: () => credential.headers(), onUnauthorized: (sent) => credential.refreshAfterRefusal(sent) });
      const accounts = usersHttp && new AccountCheck(usersHttp, cfg.accountCacheSeconds * 1000, ctx.log);
      if (!accounts) ctx.log.warn('USERS_URL is not set: tokens are not checked against users (a deleted user\'s token is accepted until it expires)');
      const orders = new OrderBook(ctx.db);
      const checkout = new Checkout({
        orders,
        keys: new IdempotencyKeys(ctx.db, { leaseSeconds: cfg.idempotencyLeaseSeconds }),
        prices: new CatalogPrices(catalog),
        inventory,
        payment: options.payment ?? approveEveryOrder,
        faults: new Faults(cfg.fault, ctx.log),
        log: ctx.log,
        reservationTtlSeconds: cfg.reservationTtlSeconds,
      });
      registerOrderRoutes(server, { verifier: ctx.verifier, accounts, checkout, orders, inventory });

      const reconciler = startPendingReconciler(orders, inventory, {
        intervalMs: cfg.reconcileIntervalMs,
        graceSeconds: cfg.reconcileGraceSeconds,
        batch: 20,
        log: ctx.log,
      });
      ctx.onShutdown(async () => {
        await reconciler.stop();
        await Promise.all([catalog.close(), inventoryHttp.close(), usersHttp?.close()]);
      });
    },
  };
}

export const ordersService = createOrdersService();
