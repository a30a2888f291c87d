// The orders schema, in order.
import type { Migration } from '../../kit/migrate.js';
import { createOrders } from './0001-create-orders.js';
import { createIdempotencyKeys } from './0002-create-idempotency-keys.js';

export const migrations: readonly Migration[] = [createOrders, createIdempotencyKeys];
