// Hot-sku reservations: successful reservations per second on one sku with ample stock and 64
// connections, through the real inventory service (restify, validation, service credential,
// group commit, reservation rows) against raw node:http + mysql2 doing one autocommit conditional
// UPDATE per request. Alternating rounds; after every round it checks that nothing was oversold
// (units in held reservations = the stock's decrease, available never negative) and prints it.
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import type { Benchmark } from './run.js';
import { alternate, benchPairs, benchSeconds, runWrk, writeResult, type LoadFigures } from './lib.js';
import { generateSigningKeys } from '../services/kit/auth.js';
import { startService } from '../services/kit/service.js';
import { inventoryService } from '../services/inventory/service.js';

const CONNECTIONS = 64;
/** The same pool size for the service and the baseline. */
const POOL = 16;
const STOCK = 1_000_000_000;
const HOT_SKU = 'SKU-HOT';
const BASELINE_SKU = 'SKU-HOT-BASELINE';

function server(): { host: string; port: number; user: string; password: string } {
  const url = new URL(process.env.MYSQL_URL ?? 'mysql://root@127.0.0.1:3306');
  return { host: url.hostname, port: Number(url.port || 3306), user: decodeURIComponent(url.username || 'root'), password: decodeURIComponent(url.password) };
}

function wrkScript(body: string, headers: Record<string, string>): string {
  const lines = ['wrk.method = "POST"', `wrk.body = ${JSON.stringify(body)}`, 'wrk.headers["Content-Type"] = "application/json"'];
  for (const [k, v] of Object.entries(headers)) lines.push(`wrk.headers[${JSON.stringify(k)}] = ${JSON.stringify(v)}`);
  return `${lines.join('\n')}\n`;
}

/** The baseline: raw node:http + mysql2, one autocommit conditional UPDATE per request. */
function baselineServer(pool: mysql.Pool): Server {
  return createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const line = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { items: Array<{ sku: string; qty: number }> }).items[0]!;
      pool
        .execute<mysql.ResultSetHeader>('UPDATE stock SET reserved = reserved + ? WHERE sku = ? AND on_hand - reserved >= ?', [line.qty, line.sku, line.qty])
        .then(([r]) => {
          res.writeHead(r.affectedRows === 1 ? 201 : 409, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ reserved: r.affectedRows === 1 }));
        })
        .catch(() => {
          res.writeHead(500);
          res.end();
        });
    });
  });
}

async function listen(s: Server): Promise<string> {
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const a = s.address();
  return `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
}

interface Books {
  onHand: number;
  reserved: number;
  held: number;
}

/** The sku's counters and its held units, read in one statement (one consistent snapshot, even while batches still commit). */
async function books(sql: mysql.Connection, sku: string): Promise<Books> {
  const [[row]] = await sql.query<mysql.RowDataPacket[]>(
    `SELECT s.on_hand, s.reserved,
       (SELECT COALESCE(SUM(ri.qty), 0) FROM reservation_items ri JOIN reservations r ON r.id = ri.reservation_id
         WHERE ri.sku = s.sku AND r.status = 'HELD') AS held
     FROM stock s WHERE s.sku = ?`,
    [sku],
  );
  return { onHand: Number(row!.on_hand), reserved: Number(row!.reserved), held: Number(row!.held) };
}

/** Prints and checks the round's accounting; throws if anything was oversold. */
function checkOversell(label: string, before: Books, after: Books, unitsReserved: number): void {
  const decrease = after.reserved - before.reserved;
  const negative = Math.max(0, after.reserved - after.onHand);
  const oversell = Math.abs(unitsReserved - decrease) + negative;
  process.stdout.write(`    ${label}: oversell = ${oversell} (units reserved ${unitsReserved} = stock decrease ${decrease}, available ${after.onHand - after.reserved})\n`);
  if (oversell !== 0) throw new Error(`${label} oversold: ${oversell} unit(s)`);
}

export const inventoryBenchmark: Benchmark = {
  name: 'inventory-hot-sku',
  description: `reservations/s on one sku, ${CONNECTIONS} connections: inventory service vs node:http + mysql2 autocommit UPDATE`,
  async run() {
    const seconds = benchSeconds(10);
    const pairs = benchPairs(3);
    const s = server();
    const dbname = `sd_bench_inventory_${process.pid}`;
    const admin = await mysql.createConnection({ host: s.host, port: s.port, user: s.user, password: s.password });
    await admin.query(`CREATE DATABASE \`${dbname}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
    const dir = await mkdtemp(join(tmpdir(), 'saleday-bench-'));
    // Run in order at the end; later set-up steps are put in front (stopped before the database goes).
    const cleanup: Array<() => Promise<unknown>> = [
      () => admin.query(`DROP DATABASE IF EXISTS \`${dbname}\``),
      () => admin.end(),
      () => rm(dir, { recursive: true, force: true }),
    ];
    try {
      const token = randomBytes(24).toString('base64url');
      const keys = await generateSigningKeys();
      const secrets = join(dir, 'secrets.json');
      await writeFile(secrets, JSON.stringify({
        db: { engine: 'mysql', host: s.host, port: s.port, username: s.user, password: s.password, dbname },
        'jwt-public': { publicKey: keys.publicKey },
        'service-credential': { token },
      }), { mode: 0o600 });

      const svc = await startService(inventoryService, {
        PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', ACCESS_LOG: 'false', MIGRATE_ON_START: 'true',
        DB_SECRET: `file:${secrets}#db`, JWT_VERIFY_SECRET: `file:${secrets}#jwt-public`,
        SERVICE_CREDENTIAL_SECRET: `file:${secrets}#service-credential`, DB_POOL_MAX: String(POOL),
      });
      cleanup.unshift(() => svc.close());
      const sql = await mysql.createConnection({ host: s.host, port: s.port, user: s.user, password: s.password, database: dbname });
      cleanup.unshift(() => sql.end());
      for (const sku of [HOT_SKU, BASELINE_SKU]) {
        await sql.query('INSERT INTO stock (sku, on_hand, reserved) VALUES (?, ?, 0)', [sku, STOCK]);
        await sql.query("INSERT INTO stock_audit (sku, delta, on_hand_after, reason, actor) VALUES (?, ?, ?, 'benchmark stock', 'bench')", [sku, STOCK, STOCK]);
      }
      const pool = mysql.createPool({ host: s.host, port: s.port, user: s.user, password: s.password, database: dbname, connectionLimit: POOL });
      cleanup.unshift(() => pool.end());
      const base = baselineServer(pool);
      const baseUrl = await listen(base);
      cleanup.unshift(() => new Promise((r) => base.close(r)));

      const body = (sku: string) => JSON.stringify({ items: [{ sku, qty: 1 }], ttlSeconds: 3600 });
      const subjectScript = wrkScript(body(HOT_SKU), { 'x-service-token': token });
      const baselineScript = wrkScript(body(BASELINE_SKU), {});
      const round = async (label: string, url: string, script: string, sku: string, heldCounts: boolean): Promise<LoadFigures> => {
        const before = await books(sql, sku);
        const figures = await runWrk({ url, connections: CONNECTIONS, durationSeconds: seconds, script });
        const after = await books(sql, sku);
        // The service's units are counted from its reservation rows; the baseline has only its counter.
        checkOversell(label, before, after, heldCounts ? after.held - before.held : after.reserved - before.reserved);
        if (figures.errors > 0) process.stdout.write(`    ${label}: ${figures.errors} error response(s), not counted\n`);
        // Successful reservations only: a refused or failed request is not a reservation.
        return { ...figures, rate: Math.max(0, figures.rate - figures.errors / seconds) };
      };
      process.stdout.write(`  ${pairs} pair(s) of ${seconds} s rounds, ${CONNECTIONS} connections, pool ${POOL}\n`);
      const result = await alternate(
        pairs,
        () => round('inventory service', `${svc.url}/api/inventory/reservations`, subjectScript, HOT_SKU, true),
        () => round('baseline', `${baseUrl}/reserve`, baselineScript, BASELINE_SKU, false),
      );
      const out = {
        name: 'inventory-hot-sku-reservations',
        value: result.subject.rate,
        baseline: result.baseline.rate,
        ratio: result.subject.rate / result.baseline.rate,
        unit: 'reservations/s',
        p99: result.subject.p99Ms,
        baselineP99: result.baseline.p99Ms,
        target: 0.5,
        oversell: 0,
        errors: result.subject.errors,
        baselineErrors: result.baseline.errors,
        roundRatios: result.ratios,
        connections: CONNECTIONS,
        seconds,
      };
      const file = await writeResult(out);
      process.stdout.write(`  wrote ${file}\n`);
      return [out];
    } finally {
      for (const step of cleanup) await step().catch(() => undefined);
    }
  },
};
