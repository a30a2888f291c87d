// Idempotency-Key handling for checkouts. The first request with a key claims it (a row keyed by
// customer and key, holding the basket's hash and a lease); concurrent requests with the same key
// wait for that one to finish and answer with the same order; a different basket under a used key
// is refused with 422. A claim whose holder died (its lease ran out before it wrote an order) is
// taken over; the owner token makes sure a slow former holder can no longer write an order.
import { randomUUID } from 'node:crypto';
import type { Database } from '../kit/db.js';
import { ApiError } from '../kit/errors.js';
import { execute, isDuplicateKey, selectOne } from '../kit/sql.js';

export type Claim =
  /** This request owns the key and runs the checkout. */
  | { kind: 'owner'; idemKey: string; ownerToken: string }
  /** The key already made an order (possibly still being confirmed by its owner). */
  | { kind: 'replay'; orderId: string };

interface KeyRow {
  request_hash: string;
  owner_token: string;
  order_id: string | null;
  lapsed: number;
}

export interface IdempotencyOptions {
  leaseSeconds: number;
}

export class IdempotencyKeys {
  constructor(
    private readonly db: Database,
    private readonly opts: IdempotencyOptions,
  ) {}

  async claim(customerId: string, idemKey: string, requestHash: string): Promise<Claim> {
    const sequelize = this.db.sequelize;
    const deadline = Date.now() + this.opts.leaseSeconds * 1000;
    for (let attempt = 0; ; attempt++) {
      const ownerToken = randomUUID();
      try {
        await execute(
          sequelize,
          'INSERT INTO idempotency_keys (customer_id, idem_key, request_hash, owner_token, lease_until) VALUES (?, ?, ?, ?, NOW(3) + INTERVAL ? SECOND)',
          [customerId, idemKey, requestHash, ownerToken, this.opts.leaseSeconds],
        );
        return { kind: 'owner', idemKey, ownerToken };
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
      }
      const row = await selectOne<KeyRow>(
        sequelize,
        'SELECT request_hash, owner_token, order_id, lease_until <= NOW(3) AS lapsed FROM idempotency_keys WHERE customer_id = ? AND idem_key = ?',
        [customerId, idemKey],
      );
      if (!row) continue; // its owner gave it up just now: claim it again
      if (row.request_hash !== requestHash) {
        throw new ApiError(422, 'IDEMPOTENCY_KEY_REUSED', 'this Idempotency-Key was used with a different basket; use a new key for a new checkout');
      }
      if (row.order_id) return { kind: 'replay', orderId: row.order_id };
      if (row.lapsed) {
        const taken = await execute(
          sequelize,
          'UPDATE idempotency_keys SET owner_token = ?, lease_until = NOW(3) + INTERVAL ? SECOND WHERE customer_id = ? AND idem_key = ? AND owner_token = ? AND order_id IS NULL',
          [ownerToken, this.opts.leaseSeconds, customerId, idemKey, row.owner_token],
        );
        if (taken.affectedRows === 1) return { kind: 'owner', idemKey, ownerToken };
        continue;
      }
      if (Date.now() > deadline) {
        throw new ApiError(409, 'IDEMPOTENCY_IN_PROGRESS', 'a checkout with this Idempotency-Key is still in progress; retry shortly', undefined, { 'Retry-After': '1' });
      }
      // The owner is working on it: wait a little (up to 200 ms) and look again.
      await new Promise((r) => setTimeout(r, Math.min(200, 10 * 2 ** Math.min(attempt, 5)) + Math.random() * 10));
    }
  }

  /** Gives the key up after a checkout that made no order, so a retry starts afresh. */
  async abandon(customerId: string, claim: { idemKey: string; ownerToken: string }): Promise<void> {
    await execute(
      this.db.sequelize,
      'DELETE FROM idempotency_keys WHERE customer_id = ? AND idem_key = ? AND owner_token = ? AND order_id IS NULL',
      [customerId, claim.idemKey, claim.ownerToken],
    );
  }
}
