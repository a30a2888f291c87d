// The local gateway's cost: the hot product page, GET /api/catalog/products/<sku>, through the
// gateway of a local shop deployed by ./playbooks/deploy.mjs (a private folder, a free port, its
// own project and databases, catalog pinned to one worker) against straight to that same catalog
// worker, same connections and duration, in alternating rounds. Two figures in one run:
//   gateway-hot-product: as a browser asks, so the gateway's 1 s cache of the catalog's public
//     reads answers most of them (localcloud/edge-cache.ts, as CloudFront does on AWS); target
//     ≥ 0.8× (issue 18: the hand-written Node gateway kept 0.42×, measured with autocannon as here).
//   gateway-forwarding: the same requests with Cache-Control: no-cache, which the gateway always
//     forwards (and does not store): HAProxy's forwarding alone, reported with no target so that
//     the cache does not hide what forwarding costs.
// The shop is destroyed and its databases dropped after.
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import type { LocalState } from '../environment/index.js';
import { gatewayDir } from '../localcloud/local-paths.js';
import type { Benchmark } from './run.js';
import { alternate, benchPairs, benchSeconds, comparison, loadAverage, medianCpu, processTree, runAutocannon, withCpu, writeResult, type BenchResult, type CpuFigures } from './lib.js';

const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);
const HOT_SKU = 'SKU-000042';
const NO_CACHE = { 'cache-control': 'no-cache' };
const say = (line: string) => process.stdout.write(`${line}\n`);

function playbook(name: string, args: string[], env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(process.cwd(), 'playbooks', `${name}.mjs`), ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('close', (code) => resolve({ code, out }));
  });
}

async function dropProject(project: string): Promise<void> {
  const server = new URL(process.env.MYSQL_URL ?? 'mysql://root@127.0.0.1:3306');
  const admin = await mysql.createConnection({ host: server.hostname, port: Number(server.port || 3306), user: decodeURIComponent(server.username || 'root'), password: decodeURIComponent(server.password) });
  try {
    const [dbs] = await admin.query<mysql.RowDataPacket[]>('SELECT SCHEMA_NAME AS name FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE ?', [`${project}\\_%`]);
    for (const d of dbs) await admin.query(`DROP DATABASE IF EXISTS \`${String(d.name)}\``);
    const [users] = await admin.query<mysql.RowDataPacket[]>('SELECT User AS u, Host AS h FROM mysql.user WHERE User LIKE ?', [`${project}\\_%`]);
    for (const u of users) await admin.query('DROP USER IF EXISTS ?@?', [String(u.u), String(u.h)]);
  } finally {
    await admin.end();
  }
}

/** Fails the bench unless the gateway's cache answers plain reads and forwards no-cache ones (what the two figures claim). */
async function expectCache(url: string): Promise<void> {
  const deadline = Date.now() + 5000;
  const answer = async (headers: Record<string, string> = {}) => {
    const res = await fetch(url, { headers });
    await res.arrayBuffer();
    return res;
  };
  while (!(await answer()).headers.has('age')) {
    if (Date.now() > deadline) throw new Error(`${url}: the gateway's cache never answered (no Age header); is the catalog routed at /api/catalog?`);
    await new Promise((r) => setTimeout(r, 50));
  }
  if ((await answer(NO_CACHE)).headers.has('age')) throw new Error(`${url}: a no-cache request was answered from the gateway's cache`);
}

export const gatewayBenchmark: Benchmark = {
  name: 'gateway',
  description: `hot product page through the local gateway (its cache on, target ≥ 0.8×; then no-cache, pure forwarding, no target) vs straight to the one catalog worker behind it, ${CONNECTIONS} connections`,
  async run(): Promise<BenchResult[]> {
    const dir = await mkdtemp(join(tmpdir(), 'saleday-bench-gw-'));
    const project = `bgw${randomBytes(3).toString('hex')}`;
    const env: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', SALEDAY_LOCAL_DIR: dir, NODE_NO_WARNINGS: '1' };
    if (process.env.MYSQL_URL) env.MYSQL_URL = process.env.MYSQL_URL;
    const overrides = [`project=${project}`, 'local.gatewayPort=0', 'services.catalog.scaling.min=1', 'services.catalog.scaling.desired=1', 'services.catalog.scaling.max=1'];
    try {
      say('  deploying a private local shop…');
      const deploy = await playbook('deploy', overrides.flatMap((o) => ['-e', o]), env);
      if (deploy.code !== 0) throw new Error(`deploy failed (exit ${deploy.code}):\n${deploy.out.slice(-2000)}`);
      const state = JSON.parse(await readFile(join(dir, 'state.json'), 'utf8')) as LocalState;
      const worker = state.services.catalog?.workers[0];
      if (!worker) throw new Error('the deployed shop has no catalog worker');
      const path = `/api/catalog/products/${HOT_SKU}`;
      const check = await fetch(`${state.gatewayUrl}${path}`);
      if (check.status !== 200) throw new Error(`${path} answered ${check.status} through the gateway`);
      await expectCache(`${state.gatewayUrl}${path}`);
      const seconds = benchSeconds(10);
      // CPU per request by process: HAProxy (master and worker), the catalog worker, and this
      // process (autocannon). On 2 shared cores the rate follows the sum, so HAProxy's share is
      // what the ratio costs; and it is far steadier than the rate on a loaded machine.
      const gw = JSON.parse(await readFile(join(gatewayDir(dir), 'gateway.json'), 'utf8')) as { haproxy: { pid: number } };
      const groups = { haproxy: await processTree(gw.haproxy.pid), catalog: [worker.pid] };
      const gatewayUrl = `${state.gatewayUrl}${path}`;
      const workerUrl = `http://127.0.0.1:${worker.port}${path}`;
      const round = (url: string, secs: number, headers: Record<string, string> = {}) => withCpu(groups, secs, () => runAutocannon(url, CONNECTIONS, secs, headers));
      // Warm-up of both paths alike (the worker's cache and JIT, HAProxy's connections to it), not counted.
      await round(workerUrl, Math.min(3, seconds));
      await round(gatewayUrl, Math.min(3, seconds), NO_CACHE);

      /** One comparison: through the gateway vs straight to the worker, both sending `headers`. */
      const compare = async (name: string, headers: Record<string, string>, extra: { target?: number; cache: string }): Promise<BenchResult> => {
        say(`  ${name}:`);
        const throughRounds: CpuFigures[] = [];
        const directRounds: CpuFigures[] = [];
        const through = async () => (throughRounds.push(await round(gatewayUrl, seconds, headers)), throughRounds.at(-1)!);
        const direct = async () => (directRounds.push(await round(workerUrl, seconds, headers)), directRounds.at(-1)!);
        const loadBefore = loadAverage();
        const r = await alternate(benchPairs(3), through, direct);
        const cpu = { through: medianCpu(throughRounds), direct: medianCpu(directRounds) };
        say(`  CPU µs per request: through ${JSON.stringify(cpu.through)}, direct ${JSON.stringify(cpu.direct)}; load average ${loadBefore} → ${loadAverage()}`);
        const result = comparison(name, r, {
          connections: CONNECTIONS,
          seconds,
          ...extra,
          requestHeaders: headers,
          cpuUsPerRequest: cpu,
          loadAverage: [...throughRounds, ...directRounds].map((x) => x.load),
          gateway: 'HAProxy (Debian), localcloud/gateway.ts',
        });
        say(`  wrote ${await writeResult(result)}`);
        return result;
      };
      const cached = await compare('gateway-hot-product', {}, { target: 0.8, cache: 'the gateway cache answers (max-age 1 s): at most one request per second reaches the worker' });
      const forwarding = await compare('gateway-forwarding', NO_CACHE, { cache: 'Cache-Control: no-cache: every request forwarded to the worker, nothing stored' });
      // gateway.json, as before: the figure with its target, and the forwarding one beside it.
      say(`  wrote ${await writeResult({ ...cached, name: 'gateway', forwarding })}`);
      return [cached, forwarding];
    } finally {
      await playbook('destroy', [], env);
      await dropProject(project).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    }
  },
};
