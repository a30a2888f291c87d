// The inventory service: stock per sku, reservations that never oversell, and the admin tools to
// set and adjust stock with an audit trail. See services/inventory/README.md.
import { int, secretRef, type Env } from '../kit/config.js';
import { ServiceCredential } from '../kit/service-credential.js';
import type { ServiceDefinition } from '../kit/service.js';
import { startBatchSweeper } from '../kit/batch-sweeper.js';
import { migrations } from './migrations/index.js';
import { ReservationBatcher } from './reservation-batcher.js';
import { GroupCommit } from './group-commit.js';
import { ReservationLedger } from './reservation-ledger.js';
import { registerReservationRoutes } from './reservation-routes.js';
import { MAX_LINES, MAX_TTL_SECONDS } from './schemas.js';
import { StockBook } from './stock-book.js';
import { registerStockRoutes } from './stock-routes.js';
import { declaration } from './declaration.js';

export interface InventoryConfig {
  serviceCredentialSecret: string;
  reservationTtlSeconds: number;
  sweepIntervalMs: number;
  sweepBatch: number;
  reserveBatchMax: number;
  reserveBatchConcurrency: number;
}

export function readInventoryConfig(env: Env): InventoryConfig {
  return {
    serviceCredentialSecret: secretRef(env, 'SERVICE_CREDENTIAL_SECRET'),
    reservationTtlSeconds: int(env, 'RESERVATION_TTL_SECONDS', { default: 600, min: 1, max: MAX_TTL_SECONDS }),
    sweepIntervalMs: int(env, 'SWEEP_INTERVAL_MS', { default: 1000, min: 10, max: 600_000 }),
    sweepBatch: int(env, 'SWEEP_BATCH', { default: 100, min: 1, max: 1000 }),
    reserveBatchMax: int(env, 'RESERVE_BATCH_MAX', { default: 256, min: 1, max: 1000 }),
    reserveBatchConcurrency: int(env, 'RESERVE_BATCH_CONCURRENCY', { default: 2, min: 1, max: 64 }),
  };
}

export const inventoryService: ServiceDefinition<InventoryConfig> = {
  name: declaration.name,
  defaultPort: declaration.defaultPort,
  migrations,
  config: readInventoryConfig,
  async register(server, ctx) {
    const credential = new ServiceCredential(ctx.secret(ctx.config.serviceCredentialSecret));
    await credential.token(); // a missing or malformed credential stops the start, not the first call
    const batcher = new ReservationBatcher(ctx.db, {
      maxBatch: ctx.config.reserveBatchMax,
      maxLines: Math.max(MAX_LINES, ctx.config.reserveBatchMax * 4),
      concurrency: ctx.config.reserveBatchConcurrency,
    });
    const ledger = new ReservationLedger(ctx.db);
    // Commits share transactions like reservations do (a checkout's second call to inventory).
    const commits = new GroupCommit((ids: string[]) => ledger.commitMany(ids), { maxBatch: ctx.config.reserveBatchMax, concurrency: ctx.config.reserveBatchConcurrency });
    registerReservationRoutes(server, { credential, batcher, ledger, commits, defaultTtlSeconds: ctx.config.reservationTtlSeconds });
    registerStockRoutes(server, new StockBook(ctx.db), ctx.verifier);

    // Frees the stock of reservations nobody committed or released in time (a checkout that
    // crashed between its steps); expireDue is safe from any number of instances.
    const sweeper = startBatchSweeper({
      sweep: (batch) => ledger.expireDue(batch),
      intervalMs: ctx.config.sweepIntervalMs,
      batch: ctx.config.sweepBatch,
      log: ctx.log,
      done: 'expired reservations released',
      what: 'expiry sweep',
    });
    ctx.onShutdown(async () => {
      await sweeper.stop();
      await Promise.all([batcher.drained(), commits.drained()]);
    });
  },
};
