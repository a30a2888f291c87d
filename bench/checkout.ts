// Checkout: orders/s (POST /api/orders, 201 only) through the gateway of a local shop deployed by
// ./playbooks/deploy.mjs (a private folder, its own project name, a free gateway port, one worker a
// service), 8 signed-in customers buying one unit of a random one of 5,000 seeded skus with a fresh Idempotency-Key each,
// against the bare database's ceiling: the autocommit conditional UPDATE
// (`UPDATE … SET available = available - 1 WHERE sku = ? AND available >= 1`) in a closed loop on
// the same MariaDB with as many connections. Rounds alternate; each pair also runs the checkout
// straight to the orders worker (its calls to catalog, inventory and users still go through the
// gateway), which separates the orders side from the gateway's. After every checkout round it
// waits for the shop to settle and checks that nothing was oversold: units of CONFIRMED order
// lines = the stock's on_hand decrease, no reservation left HELD, no sku below zero.
//
// BENCH_CHECKOUT_DIR=<SALEDAY_LOCAL_DIR of a running shop> measures that shop instead of deploying
// one (it is left running); BENCH_SECONDS / BENCH_PAIRS as for every bench.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import * as hdr from 'hdr-histogram-js';
import mysql from 'mysql2/promise';
import type { Benchmark } from './run.js';
import { benchPairs, benchSeconds, cpuMs, median, writeResult, type BenchResult } from './lib.js';
import { skuFor } from '../services/catalog/seed-data.js';
import type { LocalState } from '../environment/index.js';

const CONNECTIONS = 64;
const CUSTOMERS = 8;
const SKUS = 5_000;
const TARGET_RATIO = 0.1;
const TARGET_P99_MS = 500;
/** The repository (benchmarks run compiled, from dist/bench/). */
const ROOT = [join(import.meta.dirname, '..', '..'), join(import.meta.dirname, '..')].find((d) => existsSync(join(d, 'playbooks', 'deploy.mjs')))!;

interface Figures {
  /** successful operations per second */
  rate: number;
  p99Ms: number;
  p50Ms: number;
  /** answers other than the expected one, and socket errors */
  errors: number;
  /** successful operations in the round */
  count?: number;
  /** answers by status ("timeout" for requests that got none) */
  statuses?: Record<string, number>;
}

/** The shop's processes: each service's workers and the supervisor (which holds the gateway). */
async function shopProcesses(dir: string): Promise<Record<string, number[]>> {
  const state = JSON.parse(await readFile(join(dir, 'state.json'), 'utf8')) as LocalState;
  const supervisor = JSON.parse(await readFile(join(dir, 'supervisor.json'), 'utf8')) as { pid: number };
  const out: Record<string, number[]> = { 'supervisor+gateway': [supervisor.pid] };
  for (const [name, svc] of Object.entries(state.services)) out[name] = svc.workers.map((w) => w.pid);
  return out;
}

async function cpuOf(procs: Record<string, number[]>): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const [name, pids] of Object.entries(procs)) out[name] = (await Promise.all(pids.map(cpuMs))).reduce((a, b) => a + b, 0);
  return out;
}

function server(): { host: string; port: number; user: string; password: string } {
  const url = new URL(process.env.MYSQL_URL ?? 'mysql://root@127.0.0.1:3306');
  return { host: url.hostname, port: Number(url.port || 3306), user: decodeURIComponent(url.username || 'root'), password: decodeURIComponent(url.password) };
}

function playbook(name: 'deploy' | 'destroy', dir: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'playbooks', `${name}.mjs`), ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', SALEDAY_LOCAL_DIR: dir, NODE_NO_WARNINGS: '1', ...(process.env.MYSQL_URL ? { MYSQL_URL: process.env.MYSQL_URL } : {}) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${name} exited with ${code}:\n${out.slice(-3000)}`))));
  });
}

async function call(base: string, method: string, path: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(new URL(path, base), { method, headers: { 'content-type': 'application/json', ...headers }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

/** Registers and signs in the customers; returns their tokens. */
async function customers(base: string): Promise<string[]> {
  const run = randomBytes(4).toString('hex');
  return Promise.all(
    Array.from({ length: CUSTOMERS }, async (_, i) => {
      const email = `bench-${run}-${i}@example.com`;
      const password = `Pw-${randomBytes(12).toString('base64url')}`;
      const reg = await call(base, 'POST', '/api/users/register', { email, password, name: `Buyer ${i}` });
      if (reg.status !== 201) throw new Error(`registering a customer answered ${reg.status}`);
      const login = await call(base, 'POST', '/api/users/login', { email, password });
      if (login.status !== 200 || typeof login.body.token !== 'string') throw new Error(`signing in a customer answered ${login.status}`);
      return login.body.token;
    }),
  );
}

/** One autocannon round of checkouts: every request a new key, a random sku, the next customer. */
async function checkoutRound(base: string, tokens: string[], seconds: number): Promise<Figures> {
  const run = randomBytes(6).toString('hex');
  let n = 0;
  const result = await autocannon({
    url: base,
    connections: CONNECTIONS,
    duration: seconds,
    requests: [
      {
        method: 'POST',
        path: '/api/orders',
        setupRequest: (req) => {
          n += 1;
          const sku = skuFor(1 + Math.floor(Math.random() * SKUS));
          return {
            ...req,
            headers: { 'content-type': 'application/json', authorization: `Bearer ${tokens[n % tokens.length]}`, 'idempotency-key': `bench-${run}-${n}` },
            body: JSON.stringify({ items: [{ sku, qty: 1 }] }),
          };
        },
      },
    ],
  });
  const ok = result['2xx'];
  const statuses: Record<string, number> = Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([code, v]) => [code, (v as { count: number }).count]));
  if (result.timeouts) statuses.timeout = result.timeouts;
  return { rate: ok / result.duration, p99Ms: result.latency.p99, p50Ms: result.latency.p50, errors: result.non2xx + result.errors + result.timeouts, count: ok, statuses };
}

/** The baseline: CONNECTIONS connections each running the autocommit conditional UPDATE back to back. */
async function baselineRound(pool: mysql.Pool, seconds: number): Promise<Figures> {
  const histogram = hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });
  const end = performance.now() + seconds * 1000;
  let ok = 0;
  let errors = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (performance.now() < end) {
        const sku = skuFor(1 + Math.floor(Math.random() * SKUS));
        const t0 = performance.now();
        const [r] = await pool.execute<mysql.ResultSetHeader>('UPDATE bench_stock SET available = available - 1 WHERE sku = ? AND available >= 1', [sku]);
        histogram.recordValue(Math.max(1, Math.round((performance.now() - t0) * 1000)));
        if (r.affectedRows === 1) ok += 1;
        else errors += 1;
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  const figures = { rate: ok / elapsed, p99Ms: histogram.getValueAtPercentile(99) / 1000, p50Ms: histogram.getValueAtPercentile(50) / 1000, errors };
  histogram.destroy();
  return figures;
}

interface Books {
  onHand: number;
  reserved: number;
  negative: number;
  held: number;
  soldUnits: number;
  pending: number;
}

/** The stock's counters and the orders' confirmed units (two databases, read once the shop is quiet). */
async function books(sql: mysql.Connection, inventoryDb: string, ordersDb: string): Promise<Books> {
  const [[stock]] = await sql.query<mysql.RowDataPacket[]>(
    `SELECT SUM(on_hand) AS on_hand, SUM(reserved) AS reserved, SUM(on_hand - reserved < 0) AS negative,
       (SELECT COUNT(*) FROM \`${inventoryDb}\`.reservations WHERE status = 'HELD') AS held
     FROM \`${inventoryDb}\`.stock`,
  );
  const [[orders]] = await sql.query<mysql.RowDataPacket[]>(
    `SELECT (SELECT COALESCE(SUM(l.qty), 0) FROM \`${ordersDb}\`.order_lines l JOIN \`${ordersDb}\`.orders o ON o.id = l.order_id WHERE o.status = 'CONFIRMED') AS sold,
       (SELECT COUNT(*) FROM \`${ordersDb}\`.orders WHERE status = 'PENDING') AS pending`,
  );
  return {
    onHand: Number(stock!.on_hand),
    reserved: Number(stock!.reserved),
    negative: Number(stock!.negative),
    held: Number(stock!.held),
    soldUnits: Number(orders!.sold),
    pending: Number(orders!.pending),
  };
}

/** Waits (bounded) until no checkout is half-way: no PENDING order, no HELD reservation. */
async function settled(read: () => Promise<Books>): Promise<Books> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const b = await read();
    if ((b.pending === 0 && b.held === 0 && b.reserved === 0) || Date.now() > deadline) return b;
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** units sold by the round's confirmed orders minus the stock's decrease, plus skus below zero. */
function oversell(label: string, before: Books, after: Books): number {
  const sold = after.soldUnits - before.soldUnits;
  const decrease = before.onHand - after.onHand;
  const out = Math.abs(sold - decrease) + after.negative;
  process.stdout.write(`    ${label}: oversell = ${out} (units sold ${sold} = stock decrease ${decrease}; held ${after.held}, pending ${after.pending}, skus below zero ${after.negative})\n`);
  return out;
}

export const checkoutBenchmark: Benchmark = {
  name: 'checkout',
  description: `orders/s through the local shop's gateway, ${CONNECTIONS} connections, ${CUSTOMERS} customers, ${SKUS} skus, vs the autocommit conditional UPDATE`,
  async run(): Promise<BenchResult[]> {
    const seconds = benchSeconds(10);
    const pairs = benchPairs(3);
    const s = server();
    const admin = await mysql.createConnection({ host: s.host, port: s.port, user: s.user, password: s.password });
    const baselineDb = `sd_bench_checkout_${process.pid}`;
    const cleanup: Array<() => Promise<unknown>> = [() => admin.query(`DROP DATABASE IF EXISTS \`${baselineDb}\``), () => admin.end()];
    try {
      // The shop: deployed privately unless BENCH_CHECKOUT_DIR names a running one.
      let dir = process.env.BENCH_CHECKOUT_DIR;
      if (!dir) {
        dir = await mkdtemp(join(tmpdir(), 'saleday-bench-checkout-'));
        const shopDir = dir;
        const project = `bench${randomBytes(4).toString('hex')}`;
        cleanup.unshift(async () => {
          await playbook('destroy', shopDir, []);
          // destroy stops the processes; the databases and users the deploy made go here (as in test/helpers/local-shop.ts).
          const [dbs] = await admin.query<mysql.RowDataPacket[]>('SELECT SCHEMA_NAME AS name FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE ?', [`${project}\\_%`]);
          for (const d of dbs) await admin.query(`DROP DATABASE IF EXISTS \`${String(d.name)}\``);
          const [users] = await admin.query<mysql.RowDataPacket[]>('SELECT User AS u, Host AS h FROM mysql.user WHERE User LIKE ?', [`${project}\\_%`]);
          for (const u of users) await admin.query('DROP USER IF EXISTS ?@?', [String(u.u), String(u.h)]);
          await rm(shopDir, { recursive: true, force: true });
        });
        process.stdout.write(`  deploying a local shop (${project}) in ${dir} ...\n`);
        // Every group pinned to one worker: the bench measures the checkout path's cost, not the
        // autoscaler's answer to it (on 2 shared cores, scaling out on requests per target adds
        // workers and connections but no CPU; the gateway bench pins catalog the same way).
        const pinned = ['users', 'catalog', 'inventory', 'orders'].flatMap((s) => ['min', 'desired', 'max'].flatMap((k) => ['-e', `services.${s}.scaling.${k}=1`]));
        await playbook('deploy', dir, ['-e', `project=${project}`, '-e', 'local.gatewayPort=0', ...pinned]);
      }
      const state = JSON.parse(await readFile(join(dir, 'state.json'), 'utf8')) as LocalState;
      const secrets = JSON.parse(await readFile(join(dir, 'secrets.json'), 'utf8')) as Record<string, { dbname?: string }>;
      const inventoryDb = secrets['db-inventory']!.dbname!;
      const ordersDb = secrets['db-orders']!.dbname!;
      const gateway = state.gatewayUrl;
      const ordersWorker = state.services.orders!.workers.find((w) => w.state === 'in-service');
      if (!ordersWorker) throw new Error('the shop has no orders worker in service');
      const direct = `http://127.0.0.1:${ordersWorker.port}`;
      const tokens = await customers(gateway);

      // The baseline's table: 5,000 skus, ample stock, in a database of its own on the same server.
      await admin.query(`CREATE DATABASE \`${baselineDb}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin`);
      await admin.query(`CREATE TABLE \`${baselineDb}\`.bench_stock (sku VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY, available INT NOT NULL) ENGINE=InnoDB`);
      await admin.query(`INSERT INTO \`${baselineDb}\`.bench_stock (sku, available) VALUES ?`, [Array.from({ length: SKUS }, (_, i) => [skuFor(i + 1), 1_000_000_000])]);
      const pool = mysql.createPool({ host: s.host, port: s.port, user: s.user, password: s.password, database: baselineDb, connectionLimit: CONNECTIONS });
      cleanup.unshift(() => pool.end());

      const read = () => books(admin, inventoryDb, ordersDb);
      let oversold = 0;
      // CPU per order by process: a figure that a loaded machine disturbs far less than the rate.
      const cpuPerOrder: Array<Record<string, number>> = [];
      const checkout = async (label: string, url: string): Promise<Figures> => {
        const before = await settled(read);
        const procs = await shopProcesses(dir);
        const cpu0 = await cpuOf(procs);
        const figures = await checkoutRound(url, tokens, seconds);
        const cpu1 = await cpuOf(procs);
        oversold += oversell(label, before, await settled(read));
        const per = Object.fromEntries(Object.keys(cpu0).map((k) => [k, Number(((cpu1[k]! - cpu0[k]!) / Math.max(1, figures.count ?? 0)).toFixed(2))]));
        cpuPerOrder.push(per);
        process.stdout.write(`    ${label}: answers ${JSON.stringify(figures.statuses)}; CPU ms per order ${JSON.stringify(per)}\n`);
        return figures;
      };
      process.stdout.write(`  ${pairs} round(s) of ${seconds} s each: gateway, orders worker, baseline; ${CONNECTIONS} connections\n`);
      const gw: Figures[] = [];
      const dw: Figures[] = [];
      const bl: Figures[] = [];
      for (let i = 0; i < pairs; i++) {
        // Alternate which side goes first, so drift on a shared machine hits both alike.
        if (i % 2 === 1) bl.push(await baselineRound(pool, seconds));
        gw.push(await checkout('gateway', gateway));
        dw.push(await checkout('orders worker', direct));
        if (i % 2 === 0) bl.push(await baselineRound(pool, seconds));
        process.stdout.write(`  round ${i + 1}/${pairs}: gateway ${gw[i]!.rate.toFixed(0)}/s (p99 ${gw[i]!.p99Ms.toFixed(0)} ms), orders worker ${dw[i]!.rate.toFixed(0)}/s (p99 ${dw[i]!.p99Ms.toFixed(0)} ms), baseline ${bl[i]!.rate.toFixed(0)}/s (p99 ${bl[i]!.p99Ms.toFixed(1)} ms)\n`);
      }
      const pick = (xs: Figures[]) => ({ rate: median(xs.map((x) => x.rate)), p99Ms: median(xs.map((x) => x.p99Ms)), p50Ms: median(xs.map((x) => x.p50Ms)), errors: xs.reduce((a, x) => a + x.errors, 0) });
      const g = pick(gw);
      const d = pick(dw);
      const b = pick(bl);
      const ratio = g.rate / b.rate;
      const out: BenchResult = {
        name: 'checkout',
        value: g.rate,
        baseline: b.rate,
        ratio,
        unit: 'orders/s',
        p99: g.p99Ms,
        baselineP99: b.p99Ms,
        p50: g.p50Ms,
        oversell: oversold,
        errors: g.errors,
        direct: { rate: d.rate, ratio: d.rate / b.rate, p99: d.p99Ms, p50: d.p50Ms, errors: d.errors },
        target: { ratio: TARGET_RATIO, p99Ms: TARGET_P99_MS, oversell: 0 },
        met: ratio >= TARGET_RATIO && g.p99Ms <= TARGET_P99_MS && oversold === 0,
        roundRatios: gw.map((x, i) => x.rate / bl[i]!.rate),
        cpuMsPerOrder: cpuPerOrder,
        connections: CONNECTIONS,
        customers: CUSTOMERS,
        skus: SKUS,
        seconds,
      };
      process.stdout.write(
        `  checkout: ${g.rate.toFixed(0)} orders/s through the gateway (p50 ${g.p50Ms.toFixed(0)} ms, p99 ${g.p99Ms.toFixed(0)} ms), ` +
          `${d.rate.toFixed(0)} orders/s straight to the orders worker (ratio ${(d.rate / b.rate).toFixed(3)}, p99 ${d.p99Ms.toFixed(0)} ms), ` +
          `baseline ${b.rate.toFixed(0)} UPDATEs/s → ratio ${ratio.toFixed(3)} (target ≥ ${TARGET_RATIO}), oversell ${oversold}\n`,
      );
      const file = await writeResult(out);
      process.stdout.write(`  wrote ${file}\n`);
      if (oversold !== 0) throw new Error(`the checkout oversold ${oversold} unit(s)`);
      return [out];
    } finally {
      for (const step of cleanup) await step().catch(() => undefined);
    }
  },
};
