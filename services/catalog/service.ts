// The catalog service: products and categories, a keyset-paginated listing, and a product page
// that a CDN can cache and the in-process hot-product cache answers on sale day.
import { int, type Env } from '../kit/config.js';
import { RawReader } from '../kit/raw-read.js';
import type { ServiceDefinition } from '../kit/service.js';
import { migrations } from './migrations/index.js';
import { ProductCache } from './product-cache.js';
import { ProductStore } from './products.js';
import { registerCatalogRoutes } from './routes.js';
import { declaration } from './declaration.js';

export interface CatalogConfig {
  /** How long a product stays in the hot-product cache; 0 turns the cache off. */
  cacheTtlMs: number;
  cacheMaxEntries: number;
}

export function readCatalogConfig(env: Env): CatalogConfig {
  return {
    cacheTtlMs: int(env, 'CATALOG_CACHE_TTL_MS', { default: 1000, min: 0, max: 3_600_000 }),
    cacheMaxEntries: int(env, 'CATALOG_CACHE_MAX_ENTRIES', { default: 10_000, min: 1, max: 10_000_000 }),
  };
}

export const catalogService: ServiceDefinition<CatalogConfig> = {
  name: declaration.name,
  defaultPort: declaration.defaultPort,
  migrations,
  config: readCatalogConfig,
  register(server, ctx) {
    // Product pages read through plain mysql2 pools (kit/raw-read.ts), the size of the kit's pool.
    const reader = new RawReader({ secret: ctx.secret(ctx.config.dbSecret), poolMax: ctx.config.dbPoolMax, tls: ctx.config.dbTls, readHosts: ctx.config.dbReadHosts });
    ctx.onShutdown(() => reader.close());
    const store = new ProductStore(ctx.db, reader);
    const cache = new ProductCache((sku) => store.findPage(sku), { ttlMs: ctx.config.cacheTtlMs, maxEntries: ctx.config.cacheMaxEntries });
    registerCatalogRoutes(server, { store, cache, verifier: ctx.verifier });
  },
};
