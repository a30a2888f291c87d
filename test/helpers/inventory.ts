// Inventory test helpers: a running inventory service with a service credential in the test
// database's secrets file, stock set directly, and the accounting invariants every test can check.
import { randomBytes } from 'node:crypto';
import type mysql from 'mysql2/promise';
import type { RunningService } from '../../services/kit/service.js';
import { inventoryService, type InventoryConfig } from '../../services/inventory/service.js';
import type { TestDatabase, TestTap } from './mysql.js';
import { startTestService } from './service.js';

export const SERVICE_CREDENTIAL_KEY = 'service-credential';

/** Writes a fresh service credential into the secrets file; returns its reference and token. */
export async function serviceCredential(db: TestDatabase): Promise<{ ref: string; token: string }> {
  const token = randomBytes(24).toString('base64url');
  await db.setSecret(SERVICE_CREDENTIAL_KEY, { token });
  return { ref: `file:${db.secretsFile}#${SERVICE_CREDENTIAL_KEY}`, token };
}

export async function startInventory(
  t: TestTap,
  db: TestDatabase,
  credentialRef: string,
  env: Record<string, string> = {},
): Promise<RunningService<InventoryConfig>> {
  return startTestService(t, inventoryService, db, {
    SERVICE_CREDENTIAL_SECRET: credentialRef,
    DB_POOL_MAX: '6',
    SWEEP_INTERVAL_MS: '100',
    ...env,
  });
}

/** Sets stock straight in the table (with its audit row), as a fixture. */
export async function putStock(sql: mysql.Connection, sku: string, onHand: number): Promise<void> {
  await sql.query('INSERT INTO stock (sku, on_hand, reserved) VALUES (?, ?, 0) ON DUPLICATE KEY UPDATE on_hand = VALUES(on_hand)', [sku, onHand]);
  await sql.query("INSERT INTO stock_audit (sku, delta, on_hand_after, reason, actor) SELECT ?, ? - COALESCE(SUM(delta), 0), ?, 'test fixture', 'test' FROM stock_audit WHERE sku = ?", [sku, onHand, onHand, sku]);
}

export interface StockRow {
  sku: string;
  onHand: number;
  reserved: number;
  available: number;
}

export async function stockOf(sql: mysql.Connection, sku: string): Promise<StockRow> {
  const [rows] = await sql.query<mysql.RowDataPacket[]>('SELECT sku, on_hand, reserved FROM stock WHERE sku = ?', [sku]);
  const r = rows[0];
  if (!r) throw new Error(`no stock row for ${sku}`);
  return { sku, onHand: Number(r.on_hand), reserved: Number(r.reserved), available: Number(r.on_hand) - Number(r.reserved) };
}

/**
 * The books balance, per sku: reserved equals the units of HELD reservations, on_hand equals the
 * sum of its audit deltas, and 0 <= reserved <= on_hand. Returns the skus that do not balance.
 */
export async function unbalancedSkus(sql: mysql.Connection): Promise<Array<Record<string, unknown>>> {
  const [rows] = await sql.query<mysql.RowDataPacket[]>(`
    SELECT s.sku, s.on_hand, s.reserved,
      (SELECT COALESCE(SUM(ri.qty), 0) FROM reservation_items ri JOIN reservations r ON r.id = ri.reservation_id
        WHERE ri.sku = s.sku AND r.status = 'HELD') AS held,
      (SELECT COALESCE(SUM(a.delta), 0) FROM stock_audit a WHERE a.sku = s.sku) AS audited
    FROM stock s`);
  return rows
    .filter((r) => Number(r.reserved) !== Number(r.held) || Number(r.on_hand) !== Number(r.audited) || Number(r.reserved) < 0 || Number(r.reserved) > Number(r.on_hand))
    .map((r) => ({ ...r }));
}
