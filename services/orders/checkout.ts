// The checkout saga: claim the Idempotency-Key → price the basket from the catalog → reserve the
// stock → write the order PENDING → payment step → commit the reservation → CONFIRMED.
// Compensation: any failure before the order exists releases the reservation and gives the key up;
// a failure after it releases the reservation and cancels the order. A crash anywhere in between
// is healed without this process: the reservation expires in inventory, and a PENDING order left
// behind is settled by the PendingOrderReconciler. No order without stock; no stock held without
// an order for longer than the reservation's TTL.
import { ApiError } from '../kit/errors.js';
import type { Logger } from '../kit/log.js';
import { UpstreamError } from '../kit/service-client.js';
import type { CatalogPrices } from './catalog-prices.js';
import type { Faults } from './faults.js';
import type { IdempotencyKeys } from './idempotency-keys.js';
import type { InventoryClient } from './inventory-client.js';
import type { OrderBook, OrderRecord } from './order-book.js';
import type { PaymentStep } from './payment.js';
import { basketHash, type BasketLine } from './schemas.js';

export interface CheckoutDeps {
  orders: OrderBook;
  keys: IdempotencyKeys;
  prices: CatalogPrices;
  inventory: InventoryClient;
  payment: PaymentStep;
  faults: Faults;
  log: Logger;
  reservationTtlSeconds: number;
}

export interface CheckoutResult {
  order: OrderRecord;
  /** true when an earlier request with the same key made this order. */
  replayed: boolean;
}

export class Checkout {
  constructor(private readonly deps: CheckoutDeps) {}

  async place(customerId: string, idemKey: string, basket: BasketLine[]): Promise<CheckoutResult> {
    const { orders, keys, prices, inventory, log } = this.deps;
    // Pricing reads and changes nothing, so it runs beside the claim (one round trip less on the
    // way); its outcome counts only for the request that owns the key.
    const pricing = prices.price(basket).then(
      (priced) => ({ priced }),
      (err: unknown) => ({ err }),
    );
    const claim = await keys.claim(customerId, idemKey, basketHash(basket));
    if (claim.kind === 'replay') return { order: await this.settled(claim.orderId), replayed: true };

    let order: OrderRecord | undefined;
    let reservationId: string | undefined;
    try {
      const priceAnswer = await pricing;
      if ('err' in priceAnswer) throw priceAnswer.err;
      const { priced } = priceAnswer;
      const reservation = await inventory.reserve(basket, this.deps.reservationTtlSeconds);
      reservationId = reservation.reservationId;
      await this.deps.faults.at('after-reserve', { reservationId });
      order = await orders.create(customerId, claim, priced, reservation);
      if (!order) {
        // Another request took the key over meanwhile (our lease ran out): it answers for the key,
        // and this reservation is released below.
        throw new ApiError(409, 'IDEMPOTENCY_IN_PROGRESS', 'a checkout with this Idempotency-Key is in progress; retry shortly', undefined, { 'Retry-After': '1' });
      }
    } catch (err) {
      if (reservationId && !order) await this.release(reservationId, 'the order could not be written');
      await keys.abandon(customerId, claim).catch((e: unknown) => log.warn({ err: (e as Error).message }, 'could not give up an idempotency key; it lapses with its lease'));
      throw err;
    }

    await this.deps.faults.at('after-order', { orderId: order.id });
    let decision;
    try {
      decision = await this.deps.payment.authorize(order);
    } catch (err) {
      await this.release(order.reservationId, 'the payment step failed');
      await orders.cancel(order.id, 'checkout failed: the payment step failed');
      throw err;
    }
    if (!decision.approved) {
      await this.release(order.reservationId, 'payment declined');
      await orders.cancel(order.id, `payment declined: ${decision.reason}`);
      throw new ApiError(402, 'PAYMENT_DECLINED', `the payment was declined: ${decision.reason}`, { order: await this.view(order.id) });
    }

    let status;
    try {
      status = await inventory.commit(order.reservationId);
    } catch (err) {
      // The commit's outcome is unknown. Releasing returns the units whether or not it landed; if
      // that fails too, the order stays PENDING and the reconciler settles it after expiry.
      if (await this.release(order.reservationId, 'commit failed')) await orders.cancel(order.id, 'checkout failed: stock could not be committed');
      throw err;
    }
    if (status !== 'COMMITTED') {
      await orders.cancel(order.id, `checkout failed: the reservation was ${status.toLowerCase()} before it was committed`);
      throw checkoutFailed(await this.view(order.id));
    }
    // Confirmed as written; if the order moved on meanwhile (a cancel), answer what it is now.
    return { order: (await orders.confirmPlaced(order)) ?? (await this.view(order.id)), replayed: false };
  }

  /** Best effort: true when inventory confirmed the release (else expiry frees the stock). */
  private async release(reservationId: string, why: string): Promise<boolean> {
    try {
      await this.deps.inventory.release(reservationId);
      return true;
    } catch (err) {
      this.deps.log.warn({ reservationId, why, err: err instanceof UpstreamError ? err.reason : (err as Error).message }, 'release failed; the reservation will expire');
      return false;
    }
  }

  /** A replay waits (bounded) for the owner to finish, then answers like the first request did. */
  private async settled(orderId: string): Promise<OrderRecord> {
    const deadline = Date.now() + 30_000;
    for (let attempt = 0; ; attempt++) {
      const order = await this.view(orderId);
      if (order.status !== 'PENDING' || Date.now() > deadline) {
        if (order.status === 'CANCELLED' && order.confirmedAt === null) throw checkoutFailed(order);
        return order;
      }
      await new Promise((r) => setTimeout(r, Math.min(200, 10 * 2 ** Math.min(attempt, 5))));
    }
  }

  private async view(orderId: string): Promise<OrderRecord> {
    const order = await this.deps.orders.get(orderId);
    if (!order) throw new Error(`order ${orderId} vanished`);
    return order;
  }
}

function checkoutFailed(order: OrderRecord): ApiError {
  return new ApiError(409, 'CHECKOUT_FAILED', order.cancelReason ?? 'the checkout did not complete', { orderId: order.id });
}
