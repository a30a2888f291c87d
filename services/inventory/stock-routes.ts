// Stock: availability for anyone; setting, adjusting and auditing it for admins.
import type { Request, Response, Server } from 'restify';
import { authenticate, type Principal, type TokenVerifier } from '../kit/auth.js';
import { notFound } from '../kit/errors.js';
import type { StockBook, StockChange } from './stock-book.js';
import { parseAdjustmentBody, parseAuditQuery, parseSetStockBody, skuParam } from './schemas.js';

export function registerStockRoutes(server: Server, book: StockBook, verifier: TokenVerifier): void {
  server.get('/api/inventory/stock/:sku', async (req: Request, res: Response) => {
    const sku = skuParam((req.params as Record<string, string | undefined>).sku);
    const stock = await book.level(sku);
    if (!stock) throw notFound(`no stock is recorded for ${sku}`);
    res.send(200, { sku, available: stock.available });
  });

  server.put('/api/inventory/stock/:sku', async (req: Request, res: Response) => {
    const admin = await authenticate(req, verifier, 'admin');
    const sku = skuParam((req.params as Record<string, string | undefined>).sku);
    const body = parseSetStockBody(req.body);
    res.send(200, answer(await book.set(sku, body.onHand, body.reason, actorOf(admin))));
  });

  server.post('/api/inventory/stock/:sku/adjustments', async (req: Request, res: Response) => {
    const admin = await authenticate(req, verifier, 'admin');
    const sku = skuParam((req.params as Record<string, string | undefined>).sku);
    const body = parseAdjustmentBody(req.body);
    res.send(201, answer(await book.adjust(sku, body.delta, body.reason, actorOf(admin))));
  });

  server.get('/api/inventory/stock/:sku/audit', async (req: Request, res: Response) => {
    await authenticate(req, verifier, 'admin');
    const sku = skuParam((req.params as Record<string, string | undefined>).sku);
    const query = parseAuditQuery(req.query ?? {}, 'query');
    res.send(200, await book.audit(sku, Number(query.limit ?? 50), query.before));
  });
}

function actorOf(p: Principal): string {
  return `user:${p.id}`;
}

function answer(change: StockChange): Record<string, unknown> {
  return { ...change.stock, audit: change.audit ?? null };
}
