// The catalog's HTTP API. Reads are public; writes need an admin token (401 without one, 403 for
// customers) and are validated before anything touches the database.
import type { Request, Response, Server } from 'restify';
import { authenticate, type TokenVerifier } from '../kit/auth.js';
import { ApiError, notFound } from '../kit/errors.js';
import { decodeCursor, encodeCursor } from './cursor.js';
import { renderProduct } from './product.js';
import type { ProductPage } from './product-page.js';
import type { ProductCache } from './product-cache.js';
import type { ProductStore } from './products.js';
import { represent, sendPublicRead } from './representation.js';
import { CategoryCreate, DEFAULT_LIMIT, MAX_LIMIT, NoBody, ProductCreate, ProductListQuery, ProductUpdate, isSku } from './schemas.js';

const CATEGORIES_CACHE_CONTROL = 'public, max-age=60';

export interface CatalogRoutesDeps {
  store: ProductStore;
  cache: ProductCache;
  verifier: TokenVerifier;
}

function skuParam(req: Request): string {
  const sku = (req.params as Record<string, string>).sku ?? '';
  if (!isSku(sku)) throw notFound('no such product');
  return sku;
}

/** A write's answer: the product with its ETag, neither cacheable nor conditional (reads: sendPublicRead). */
function sendWritten(res: Response, rendered: ProductPage, kind: 'created' | 'updated'): void {
  res.sendRaw(kind === 'created' ? 201 : 200, rendered.body, {
    'Content-Type': 'application/json',
    'Content-Length': String(rendered.body.length),
    ETag: rendered.etag,
    'Cache-Control': 'no-store',
  });
}

export function registerCatalogRoutes(server: Server, { store, cache, verifier }: CatalogRoutesDeps): void {
  server.get('/api/catalog/products/:sku', async (req: Request, res: Response) => {
    const sku = skuParam(req);
    // A cache hit (null: known to be missing) answers without waiting on anything.
    const hit = cache.peek(sku);
    const rendered = hit === undefined ? await cache.get(sku) : hit;
    if (!rendered) throw notFound(`no product with sku ${sku}`);
    sendPublicRead(req, res, rendered);
  });

  server.get('/api/catalog/products', async (req: Request, res: Response) => {
    const query = ProductListQuery(req.query ?? {}, 'query');
    const limit = query.limit === undefined ? DEFAULT_LIMIT : Math.min(Number(query.limit), MAX_LIMIT);
    if (limit < 1) throw new ApiError(400, 'VALIDATION_FAILED', 'query.limit: must be at least 1', { field: 'limit' });
    const filters = { category: query.category, q: query.q };
    const afterSku = query.cursor === undefined ? undefined : decodeCursor(query.cursor, filters);
    const rows = await store.list({ ...filters, afterSku, limit: limit + 1 });
    const items = rows.slice(0, limit);
    const nextCursor = rows.length > limit ? encodeCursor(items[items.length - 1]!.sku, filters) : null;
    // Listings and search are public reads like the product page: the edge keys them by their query.
    sendPublicRead(req, res, represent({ items, nextCursor }));
  });

  server.get('/api/catalog/categories', async (_req: Request, res: Response) => {
    res.header('Cache-Control', CATEGORIES_CACHE_CONTROL);
    res.send(200, { items: await store.categories() });
  });

  server.post('/api/catalog/categories', async (req: Request, res: Response) => {
    await authenticate(req, verifier, 'admin');
    const created = await store.createCategory(CategoryCreate(req.body));
    res.header('Location', `/api/catalog/categories/${created.slug}`);
    res.send(201, created);
  });

  server.post('/api/catalog/products', async (req: Request, res: Response) => {
    await authenticate(req, verifier, 'admin');
    const product = await store.create(ProductCreate(req.body));
    cache.invalidate(product.sku);
    res.header('Location', `/api/catalog/products/${product.sku}`);
    sendWritten(res, renderProduct(product), 'created');
  });

  server.patch('/api/catalog/products/:sku', async (req: Request, res: Response) => {
    await authenticate(req, verifier, 'admin');
    const sku = skuParam(req);
    const patch = ProductUpdate(req.body);
    const ifMatch = req.headers['if-match'];
    const product = await store.update(sku, patch, typeof ifMatch === 'string' ? ifMatch : undefined);
    cache.invalidate(sku);
    sendWritten(res, renderProduct(product), 'updated');
  });

  server.post('/api/catalog/products/:sku/deactivate', async (req: Request, res: Response) => {
    await authenticate(req, verifier, 'admin');
    const sku = skuParam(req);
    if (req.body !== undefined) NoBody(req.body);
    const product = await store.update(sku, { active: false });
    cache.invalidate(sku);
    sendWritten(res, renderProduct(product), 'updated');
  });
}
