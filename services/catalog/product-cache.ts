// The hot-product cache: product pages (JSON bytes + ETag) kept for a short TTL in this process,
// so a flash-sale product page costs no database round trip per view. Concurrent misses for one
// sku share a single load (lru-cache's fetch coalesces them). Writes in this process invalidate the
// entry; other instances see the change within the TTL. A TTL of 0 turns the cache off.
import { LRUCache } from 'lru-cache';
import type { ProductPage } from './product-page.js';

export interface ProductCacheOptions {
  ttlMs: number;
  maxEntries: number;
}

type Loader<P> = (sku: string) => Promise<P | undefined>;

/** "No such product" is cached too, so a hot missing sku does not hit the database either. */
const MISSING = Symbol('missing');
type Entry<P> = P | typeof MISSING;

/** A loader failure, told apart from lru-cache aborting a fetch because the entry was invalidated. */
class LoadFailed extends Error {
  constructor(readonly error: unknown) {
    super('product load failed');
  }
}

export class ProductCache<P extends ProductPage = ProductPage> {
  private readonly lru: LRUCache<string, Entry<P>> | undefined;
  /** Database loads started, for tests and diagnostics. */
  loads = 0;

  constructor(
    private readonly loader: Loader<P>,
    opts: ProductCacheOptions,
  ) {
    if (opts.ttlMs > 0) {
      this.lru = new LRUCache<string, Entry<P>>({
        max: opts.maxEntries,
        ttl: opts.ttlMs,
        fetchMethod: async (sku) => {
          try {
            return (await this.load(sku)) ?? MISSING;
          } catch (err) {
            throw new LoadFailed(err);
          }
        },
      });
    }
  }

  get enabled(): boolean {
    return this.lru !== undefined;
  }

  /** A fresh cached answer without waiting: a product, null for a known-missing sku, undefined on a miss. */
  peek(sku: string): P | null | undefined {
    const hit = this.lru?.get(sku);
    return hit === MISSING ? null : hit;
  }

  get(sku: string): Promise<P | undefined> {
    // With the cache off, the load's own promise (no extra async step on the uncached hot path).
    return this.lru ? this.getCached(this.lru, sku) : this.load(sku);
  }

  private async getCached(lru: LRUCache<string, Entry<P>>, sku: string): Promise<P | undefined> {
    const hit = lru.get(sku);
    if (hit !== undefined) return hit === MISSING ? undefined : hit;
    try {
      const entry = await lru.fetch(sku);
      return entry === MISSING ? undefined : entry;
    } catch (err) {
      if (err instanceof LoadFailed) throw err.error;
      // The entry was invalidated while loading: what was loaded may predate the write, so read again.
      return this.load(sku);
    }
  }

  invalidate(sku: string): void {
    this.lru?.delete(sku);
  }

  private load(sku: string): Promise<P | undefined> {
    this.loads++;
    return this.loader(sku);
  }
}
