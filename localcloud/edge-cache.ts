// The gateway's small in-memory cache of the catalog's public reads (HAProxy's `cache`): the local
// stand-in for what CloudFront caches at the edge on AWS (product page, listings, searches), with a
// much shorter lifetime. Rendered into the gateway's configuration by haproxy-config.ts when a
// catalog service is routed. Without it, forwarding alone costs HAProxy about as much CPU per
// request as the catalog worker spends answering it (issue 18).
export const EDGE_CACHE = {
  /** The service whose backend gets the cache rules. */
  service: 'catalog',
  /** The public reads: this path and below it (product page, listing, search). */
  path: '/api/catalog/products',
  /**
   * No staler than the catalog's own per-process cache across instances (CATALOG_CACHE_TTL_MS,
   * 1 s), not the 5 s the origin allows CloudFront (HAProxy keeps the shorter of the two).
   */
  maxAgeSeconds: 1,
  /**
   * After a write answered by the catalog backend, the cache is neither used nor filled for this
   * long. Longer than max-age on purpose: an entry stored just before the write (its request may
   * have reached a worker before the write did) has expired before the cache is used again, so a
   * write followed by a read through the gateway always sees the write.
   */
  writeBypassMs: 3000,
  totalMaxSizeMb: 16,
  /** Listings and searches fit; anything larger is forwarded, never stored. */
  maxObjectBytes: 256 * 1024,
} as const;

const cacheName = EDGE_CACHE.service;
const writeVar = `proc.${EDGE_CACHE.service}_write`;

/** Lines of the `global` section: the time of the last catalog write, none yet. */
export function edgeCacheGlobal(): string[] {
  return [`  set-var ${writeVar} int(0)`];
}

/** The `cache` section itself. */
export function edgeCacheSection(): string[] {
  return [`cache ${cacheName}`, `  total-max-size ${EDGE_CACHE.totalMaxSizeMb}`, `  max-object-size ${EDGE_CACHE.maxObjectBytes}`, `  max-age ${EDGE_CACHE.maxAgeSeconds}`];
}

/** Lines of the catalog's backend: which requests may be answered from the cache, which answers are stored. */
export function edgeCacheBackend(): string[] {
  return [
    `  acl edge_read method GET HEAD`,
    `  acl edge_preflight method OPTIONS`,
    `  acl edge_path path ${EDGE_CACHE.path}`,
    `  acl edge_path path_beg ${EDGE_CACHE.path}/`,
    // Never anything personal (HAProxy already refuses to store a request with Authorization).
    '  acl edge_personal req.hdr(authorization) -m found',
    '  acl edge_personal req.hdr(cookie) -m found',
    // A client asking for a fresh answer gets one, and it is not stored either: HAProxy 2.6 alone
    // would skip the lookup but store the answer; here no-cache is pure forwarding (bench gateway).
    '  acl edge_refresh req.hdr(cache-control) -m str no-cache',
    '  acl edge_refresh req.hdr(pragma) -m str no-cache',
    `  acl edge_after_write date(0,ms),sub(${writeVar}) lt ${EDGE_CACHE.writeBypassMs}`,
    '  http-request set-var(txn.edge_cacheable) bool(true) if edge_read edge_path !edge_personal !edge_refresh !edge_after_write',
    `  http-request cache-use ${cacheName} if { var(txn.edge_cacheable) -m bool }`,
    // Only a 200 the origin declared public, with no cookie of its own; HAProxy also honours
    // no-store, private and no-cache, and stores GET answers only (HEAD is answered from them).
    `  http-response cache-store ${cacheName} if { var(txn.edge_cacheable) -m bool } !edge_after_write { status 200 } { res.hdr(cache-control) -m str public } !{ res.hdr(set-cookie) -m found }`,
    // A write answered for the catalog (even by HAProxy itself: a write that timed out may still
    // have been applied) starts the bypass window; OPTIONS (a browser's preflight) does not.
    `  http-after-response set-var(${writeVar}) date(0,ms) unless edge_read || edge_preflight`,
  ];
}
