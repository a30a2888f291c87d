// The inventory schema, in order.
import type { Migration } from '../../kit/migrate.js';
import { createStock } from './0001-create-stock.js';
import { createReservations } from './0002-create-reservations.js';
import { createStockAudit } from './0003-create-stock-audit.js';

export const migrations: readonly Migration[] = [createStock, createReservations, createStockAudit];
