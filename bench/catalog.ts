// The catalog product page, GET /api/catalog/products/:sku, on the real service (from dist, with
// its default logging) against two baselines that read the same row by primary key with the same
// statement: (i) bare restify + mysql2, (ii) raw node:http + mysql2. wrk drives all of them with
// the same connections and duration, in alternating rounds.
//   catalog-uncached: cache off, requests spread over the whole seeded catalog, vs (i); target ≥ 0.8×
//   catalog-cached:   cache on (the default), a hot set of 100 skus for every side, vs (ii); target ≥ 1.0×
//   both: p99 at most 1.5× the baseline's.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { generateSigningKeys } from '../services/kit/auth.js';
import { DEFAULT_SEED_COUNT } from '../services/catalog/seed-data.js';
import type { Benchmark } from './run.js';
import { alternate, benchPairs, benchSeconds, median, runWrk, writeResult, type BenchResult, type LoadFigures } from './lib.js';

const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const DATABASE = 'saleday_bench_catalog';
const HOT_SET = 100;

const say = (line: string) => process.stdout.write(`${line}\n`);

/** wrk's request(): a uniformly random sku of the whole catalog, or of a hot set spread over it. */
function skuScript(count: number, hot?: number): string {
  const pick = hot ? `1 + math.random(0, ${hot - 1}) * ${Math.floor(count / hot)}` : `math.random(1, ${count})`;
  return `math.randomseed(os.time())
request = function()
  return wrk.format("GET", string.format("/api/catalog/products/SKU-%06d", ${pick}))
end
`;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

interface Target {
  name: string;
  url: string;
  child: ChildProcess;
}

/** Starts `node <script>` on a free port (output discarded, as a service's logs would be shipped) and waits for it. */
async function startTarget(name: string, script: string, env: Record<string, string>, probePath: string): Promise<Target> {
  const port = await freePort();
  const child = spawn(process.execPath, [script], { env: { ...process.env, NODE_NO_WARNINGS: '1', ...env, PORT: String(port), HOST: '127.0.0.1' }, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${name} exited with ${child.exitCode}: ${stderr}`);
    const ok = await fetch(`${url}${probePath}`).then((r) => r.status === 200, () => false);
    if (ok) return { name, url, child };
    if (Date.now() > deadline) throw new Error(`${name} did not answer within 30 s: ${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function stopTarget(target: Target): Promise<void> {
  if (target.child.exitCode !== null) return;
  const gone = new Promise((r) => target.child.once('exit', r));
  target.child.kill('SIGTERM');
  await gone;
}

function compare(
  name: string,
  description: string,
  figures: { subject: LoadFigures; baseline: LoadFigures; ratios: number[] },
  target: number,
  extra: Record<string, unknown>,
): BenchResult {
  const ratio = median(figures.ratios);
  const p99Ratio = figures.subject.p99Ms / figures.baseline.p99Ms;
  return {
    name,
    description,
    value: figures.subject.rate,
    baseline: figures.baseline.rate,
    ratio,
    unit: 'req/s',
    p99: figures.subject.p99Ms,
    baselineP99: figures.baseline.p99Ms,
    target,
    p99RatioLimit: 1.5,
    p99Ratio,
    meetsTarget: ratio >= target && p99Ratio <= 1.5,
    roundRatios: figures.ratios,
    errors: figures.subject.errors + figures.baseline.errors,
    ...extra,
  };
}

export const catalogBenchmark: Benchmark = {
  name: 'catalog',
  description: 'GET /api/catalog/products/:sku: service vs restify+mysql2 (cache off) and vs node:http+mysql2 (cache on)',
  async run() {
    const seconds = benchSeconds(10);
    const pairs = benchPairs(3);
    const mysqlUrl = process.env.MYSQL_URL ?? 'mysql://root@127.0.0.1:3306';
    const server = new URL(mysqlUrl);
    const admin = await mysql.createConnection({ host: server.hostname, port: Number(server.port || 3306), user: decodeURIComponent(server.username || 'root'), password: decodeURIComponent(server.password) });
    await admin.query(`CREATE DATABASE IF NOT EXISTS \`${DATABASE}\` CHARACTER SET utf8mb4`);
    const dir = await mkdtemp(join(tmpdir(), 'saleday-bench-catalog-'));
    const targets: Target[] = [];
    try {
      const secrets = join(dir, 'secrets.json');
      const keys = await generateSigningKeys();
      await writeFile(secrets, JSON.stringify({
        db: { engine: 'mysql', host: server.hostname, port: Number(server.port || 3306), username: decodeURIComponent(server.username || 'root'), password: decodeURIComponent(server.password), dbname: DATABASE },
        'jwt-public': { publicKey: keys.publicKey },
      }), { mode: 0o600 });
      await chmod(secrets, 0o600);
      const dist = join(import.meta.dirname, '..');
      say(`  seeding ${DEFAULT_SEED_COUNT} products into ${DATABASE}`);
      await new Promise<void>((resolve, reject) => {
        const child = spawn(process.execPath, [join(dist, 'services/catalog/seed.js')], { env: { ...process.env, NODE_NO_WARNINGS: '1', DB_SECRET: `file:${secrets}#db` }, stdio: ['ignore', 'ignore', 'inherit'] });
        child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`the catalog seed failed (exit ${code})`))));
      });

      const serviceEnv = { DB_SECRET: `file:${secrets}#db`, JWT_VERIFY_SECRET: `file:${secrets}#jwt-public` };
      const baselineEnv = { BENCH_MYSQL_URL: mysqlUrl, BENCH_DATABASE: DATABASE };
      const probe = '/api/catalog/products/SKU-000001';
      say('  starting the service (cache off, cache on) and the baselines');
      const uncachedService = await startTarget('catalog, cache off', join(dist, 'services/catalog/main.js'), { ...serviceEnv, CATALOG_CACHE_TTL_MS: '0' }, probe);
      targets.push(uncachedService);
      const cachedService = await startTarget('catalog, cache on', join(dist, 'services/catalog/main.js'), serviceEnv, probe);
      targets.push(cachedService);
      const restifyBaseline = await startTarget('restify + mysql2', join(dist, 'bench/catalog-baselines/restify-mysql2.js'), baselineEnv, probe);
      targets.push(restifyBaseline);
      const httpBaseline = await startTarget('node:http + mysql2', join(dist, 'bench/catalog-baselines/node-http-mysql2.js'), baselineEnv, probe);
      targets.push(httpBaseline);

      const spread = skuScript(DEFAULT_SEED_COUNT);
      const hot = skuScript(DEFAULT_SEED_COUNT, HOT_SET);
      const wrk = (target: Target, script: string, duration = seconds) => () => runWrk({ url: target.url, connections: CONNECTIONS, durationSeconds: duration, script });
      say(`  warming up (${CONNECTIONS} connections)`);
      for (const [target, script] of [[uncachedService, spread], [restifyBaseline, spread], [cachedService, hot], [httpBaseline, hot]] as const) {
        await wrk(target, script, Math.min(3, seconds))();
      }
      const settings = { connections: CONNECTIONS, durationSeconds: seconds, pairs, catalogSize: DEFAULT_SEED_COUNT, generator: 'wrk' };

      say(`  uncached: service (CATALOG_CACHE_TTL_MS=0) vs restify + mysql2, skus over the whole catalog, ${pairs} pair(s) of ${seconds} s`);
      const uncached = await alternate(pairs, wrk(uncachedService, spread), wrk(restifyBaseline, spread), (l) => say(`  ${l}`));
      say(`  cached: service (default cache) vs node:http + mysql2, a hot set of ${HOT_SET} skus, ${pairs} pair(s) of ${seconds} s`);
      const cached = await alternate(pairs, wrk(cachedService, hot), wrk(httpBaseline, hot), (l) => say(`  ${l}`));

      const results = [
        compare('catalog-uncached', 'product by sku, cache off, whole catalog: service vs bare restify + mysql2', uncached, 0.8, { ...settings, baselineName: 'restify + mysql2', cacheTtlMs: 0 }),
        compare('catalog-cached', `product by sku, cache on, hot set of ${HOT_SET}: service vs node:http + mysql2`, cached, 1.0, { ...settings, baselineName: 'node:http + mysql2', cacheTtlMs: 1000, hotSet: HOT_SET }),
      ];
      for (const r of results) {
        if (Number(r.errors) > 0) throw new Error(`${r.name}: ${String(r.errors)} requests failed (non-2xx or socket errors)`);
        await writeResult(r);
        say(`  ${r.name}: ratio ${r.ratio.toFixed(2)} (target ≥ ${String(r.target)}), p99 ${r.p99!.toFixed(2)} vs ${r.baselineP99!.toFixed(2)} ms → ${r.meetsTarget ? 'meets' : 'MISSES'} the target`);
      }
      return results;
    } finally {
      await Promise.all(targets.map(stopTarget));
      await admin.query(`DROP DATABASE IF EXISTS \`${DATABASE}\``);
      await admin.end();
      await rm(dir, { recursive: true, force: true });
    }
  },
};
