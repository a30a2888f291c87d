// The orders API for customers (and admins): place an order, list and read your own, cancel one
// before it is fulfilled. Someone else's order answers 404, exactly like one that does not exist.
import type { Request, Response, Server } from 'restify';
import { authenticate, type Principal, type Role, type TokenVerifier } from '../kit/auth.js';
import { ApiError, notFound } from '../kit/errors.js';
import { expectNoBody } from '../kit/validation.js';
import type { AccountCheck } from './account-check.js';
import type { Checkout } from './checkout.js';
import type { InventoryClient } from './inventory-client.js';
import { publicView, type OrderBook, type OrderRecord } from './order-book.js';
import { cursorFor, idempotencyKey, isOrderId, parseBasket, parseListQuery } from './schemas.js';

export interface OrderRoutesDeps {
  verifier: TokenVerifier;
  /** Refuses tokens of accounts users no longer knows (absent: signature and expiry only). */
  accounts?: AccountCheck | undefined;
  checkout: Checkout;
  orders: OrderBook;
  inventory: InventoryClient;
}

export function registerOrderRoutes(server: Server, deps: OrderRoutesDeps): void {
  const { verifier, accounts, checkout, orders, inventory } = deps;

  /** The caller, from a valid token of an account that still exists. */
  const caller = async (req: Request, ...roles: Role[]): Promise<Principal> => {
    const who = await authenticate(req, verifier, ...roles);
    await accounts?.require(who.id);
    return who;
  };

  /** The order if the caller may see it (its customer, or an admin); otherwise 404. */
  const visibleOrder = async (req: Request, who: Principal): Promise<OrderRecord> => {
    const id = (req.params as Record<string, string | undefined>).id;
    const order = isOrderId(id) ? await orders.get(id) : undefined;
    if (!order || (order.customerId !== who.id && who.role !== 'admin')) throw notFound('no such order');
    return order;
  };

  server.post('/api/orders', async (req: Request, res: Response) => {
    const who = await caller(req, 'customer');
    const key = idempotencyKey(req);
    const basket = parseBasket(req.body);
    const { order, replayed } = await checkout.place(who.id, key, basket);
    if (replayed) res.header('Idempotent-Replayed', 'true');
    res.header('Location', `/api/orders/${order.id}`);
    res.send(201, publicView(order));
  });

  server.get('/api/orders', async (req: Request, res: Response) => {
    const who = await caller(req);
    const { limit, before } = parseListQuery(req.query);
    const page = await orders.listForCustomer(who.id, limit, before);
    const last = page.items[page.items.length - 1];
    res.send(200, { items: page.items.map(publicView), nextCursor: page.more && last ? cursorFor(last.seq) : null });
  });

  server.get('/api/orders/:id', async (req: Request, res: Response) => {
    const who = await caller(req);
    res.send(200, publicView(await visibleOrder(req, who)));
  });

  server.post('/api/orders/:id/cancel', async (req: Request, res: Response) => {
    const who = await caller(req);
    expectNoBody(req.body);
    const order = await visibleOrder(req, who);
    if (order.status === 'FULFILLED') throw new ApiError(409, 'ORDER_FULFILLED', 'the order has been fulfilled and can no longer be cancelled');
    if (order.status !== 'CANCELLED') {
      // Release first: if the status update then fails, a retry releases again (idempotent) and finishes.
      await inventory.release(order.reservationId);
      await orders.cancel(order.id, who.role === 'admin' && who.id !== order.customerId ? `cancelled by admin ${who.id}` : 'cancelled by the customer');
    }
    const now = await orders.get(order.id);
    res.send(200, publicView(now!));
  });
}
