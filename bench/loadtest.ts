// The load harness's own ceiling: the most requests per second it sustains against a trivial
// endpoint (a private nginx serving a small file), as a ratio to plain autocannon with the same
// connections in the same run (target ≥ 0.8: journeys, scheduling and recording may cost at most
// a fifth), with wrk's figure beside it for reference.
//
// The harness runs open-model, so its ceiling is measured by scheduling more journeys than it can
// start (4× what plain autocannon managed in a calibration run): every connection is always busy,
// and the journeys beyond that are dropped and counted, which is part of its cost.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseProfile } from '../loadtest/lib/profile/load.js';
import { Progress } from '../loadtest/lib/progress.js';
import { decode } from '../loadtest/lib/recorder.js';
import type { RunResult } from '../loadtest/lib/result.js';
import { runProfile } from '../loadtest/lib/runner.js';
import { alternate, benchPairs, benchSeconds, comparison, cpuMs, loadAverage, machineBusyMs, median, processTree, runAutocannon, runWrk, sampleTree, writeResult, type BenchResult, type LoadFigures } from './lib.js';
import type { Benchmark } from './run.js';

const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 64);

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** A private nginx (Debian's) on a free port, with its own config, pid, logs and temp paths. */
async function startNginx(): Promise<{ url: string; pid: number; stop: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'saleday-nginx-'));
  const www = join(dir, 'www');
  await mkdir(www);
  await writeFile(join(www, 'index.html'), 'saleday ok\n');
  await chmod(dir, 0o755);
  await chmod(www, 0o755);
  const port = await freePort();
  const conf = join(dir, 'nginx.conf');
  await writeFile(
    conf,
    `worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  keepalive_requests 10000000;
  server {
    listen 127.0.0.1:${port};
    root ${www};
    location / { }
  }
}
`,
  );
  const child: ChildProcess = spawn('/usr/sbin/nginx', ['-p', dir, '-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  child.once('error', (err) => (stderr += err.message)); // not installed: ENOENT, said below
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 10_000;
  while (!(await answers(port))) {
    if (child.exitCode !== null || child.pid === undefined || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`nginx did not start (install it: apt-get install nginx-light): ${stderr.trim()}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid!,
    async stop() {
      child.kill('SIGQUIT');
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}

const plainAutocannon = (url: string, seconds: number): Promise<LoadFigures> => runAutocannon(`${url}/index.html`, CONNECTIONS, seconds);

/** Where the CPU went in a round: per request, the generators' and nginx's µs, and the machine's busy cores (anyone's). */
interface CpuShare {
  generatorsUs: number;
  nginxUs: number;
  machineBusyCores: number;
  load: number;
}

/** Runs a round and says where the CPU went (`generators`: the tree of what the round started). */
async function cpuShare<T extends LoadFigures>(nginxPid: number, seconds: number, round: () => Promise<{ figures: T; generatorsMs: number }>): Promise<T & CpuShare> {
  const nginx = await processTree(nginxPid);
  const sum = async () => (await Promise.all(nginx.map(cpuMs))).reduce((a, b) => a + b, 0);
  const [n0, m0, t0] = [await sum(), await machineBusyMs(), Date.now()];
  const { figures, generatorsMs } = await round();
  const [n1, m1, t1] = [await sum(), await machineBusyMs(), Date.now()];
  const requests = Math.max(1, figures.rate * seconds);
  return {
    ...figures,
    generatorsUs: Math.round((generatorsMs * 1000) / requests),
    nginxUs: Math.round(((n1 - n0) * 1000) / requests),
    machineBusyCores: Number(((m1 - m0) / (t1 - t0)).toFixed(2)),
    load: loadAverage(),
  };
}

function ceilingProfile(seconds: number, rate: number): string {
  return `
name: ceiling
maxInFlight: ${CONNECTIONS}
maxQueued: ${CONNECTIONS}
drain: 5s
phases:
  - { name: saturate, duration: ${seconds}s, rate: ${Math.ceil(rate)} }
journeys:
  - name: get
    weight: 100
    steps:
      - request: GET /index.html
`;
}

function figures(r: RunResult, seconds: number): LoadFigures {
  const e = r.recording.endpoints['GET /index.html']!;
  const answered = Object.entries(e.statuses).filter(([k]) => /^\d+$/.test(k)).reduce((a, [, n]) => a + n, 0);
  // p99 from the write, comparable with autocannon's (which cannot see time spent queued)
  return { rate: answered / seconds, p99Ms: decode(e.serviceTime).getValueAtPercentile(99) / 1000, errors: e.errors };
}

async function harness(url: string, seconds: number, rate: number): Promise<LoadFigures> {
  const profile = parseProfile(ceilingProfile(seconds, rate), 'bench/loadtest.ts');
  const r = await runProfile({ profile, target: { kind: 'url', url, label: url, probe: undefined }, progress: new Progress(process.stderr, true) });
  return figures(r, seconds);
}

const RUN_MJS = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'loadtest', 'run.mjs');

/** ./loadtest/run.mjs --generators N as a user runs it (N = 1 is one process), its merged result read back. */
/** …and the CPU ms its processes used (run.mjs and its generators, startup included). */
async function harnessProcesses(url: string, seconds: number, rate: number, generators: number): Promise<{ figures: LoadFigures; generatorsMs: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'saleday-bench-generators-'));
  try {
    const file = join(dir, 'ceiling.yaml');
    // Each generator gets the whole connection budget: N processes, N × the connections.
    await writeFile(file, ceilingProfile(seconds, rate));
    const out = join(dir, 'out');
    const child = spawn(process.execPath, [RUN_MJS, '--profile', file, '--target', url, '--out', out, '--quiet', '--generators', String(generators)], { stdio: ['ignore', 'ignore', 'pipe'] });
    const cpu = sampleTree(child.pid!);
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    const generatorsMs = await cpu.stop();
    const [run] = await readdir(out).catch(() => []);
    if (!run) throw new Error(`run.mjs --generators ${generators} wrote no result (exit ${String(code)}): ${stderr.trim()}`);
    return { figures: figures(JSON.parse(await readFile(join(out, run, 'result.json'), 'utf8')) as RunResult, seconds), generatorsMs };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export const loadtestBenchmark: Benchmark = {
  name: 'loadtest',
  description: `the load harness's ceiling against nginx, as a ratio to plain autocannon (${CONNECTIONS} connections), wrk beside it; --generators 2 against 1`,
  async run(): Promise<BenchResult[]> {
    const seconds = benchSeconds(10);
    const pairs = benchPairs(3);
    const nginx = await startNginx();
    try {
      const calibration = await plainAutocannon(nginx.url, Math.min(2, seconds));
      // Far more than it can start, so that it is always saturated even when the machine is noisy.
      const rate = Math.max(20_000, calibration.rate * 4);
      process.stdout.write(`  calibration: plain autocannon ${calibration.rate.toFixed(0)} req/s; the harness is scheduled at ${rate.toFixed(0)} journeys/s\n`);
      const ceiling = await alternate(
        pairs,
        () => harness(nginx.url, seconds, rate),
        () => plainAutocannon(nginx.url, seconds),
      );
      // Every local core: two generator processes against one, both through run.mjs, in the same
      // run, each scheduled far above what it can start (run.mjs splits the rate between them).
      // Where the CPU went is kept per round: on 2 cores shared with nginx, two generators can
      // only gain what one left idle.
      const rounds: Record<1 | 2, Array<LoadFigures & CpuShare>> = { 1: [], 2: [] };
      // Rounds 3× as long: each starts processes (Node, fork, setup, a 1 s start barrier), whose CPU
      // counts with the generators' and must stay a small part of it.
      const processSeconds = seconds * 3;
      const processes = (n: 1 | 2) => async () => {
        const r = await cpuShare(nginx.pid, processSeconds, () => harnessProcesses(nginx.url, processSeconds, rate * n, n));
        rounds[n].push(r);
        process.stdout.write(`    --generators ${n}: ${r.rate.toFixed(0)} req/s, p99 ${r.p99Ms.toFixed(2)} ms; CPU µs/request: generators ${r.generatorsUs}, nginx ${r.nginxUs}; machine busy ${r.machineBusyCores} cores; load ${r.load}\n`);
        return r;
      };
      const multi = await alternate(pairs, processes(2), processes(1));
      // wrk (C, 2 threads) beside the same nginx shows what the machine itself can do; the bench goes on without it.
      const wrk = await cpuShare(nginx.pid, seconds, async () => ({
        figures: await runWrk({ url: `${nginx.url}/index.html`, connections: CONNECTIONS, durationSeconds: seconds, threads: 2 }),
        generatorsMs: 0, // wrk's own CPU is not read (the machine's busy cores say it)
      })).catch((err: Error) => {
        process.stdout.write(`  wrk (the machine's ceiling): not run (${err.message.split('\n')[0]}): apt-get install wrk\n`);
        return undefined;
      });
      if (wrk) process.stdout.write(`  wrk (the machine's ceiling): ${wrk.rate.toFixed(0)} req/s, p99 ${wrk.p99Ms.toFixed(2)} ms; nginx ${wrk.nginxUs} CPU µs/request; machine busy ${wrk.machineBusyCores} cores\n`);
      const wrkFigures = wrk ? { wrk: wrk.rate, wrkP99: wrk.p99Ms, wrkNginxCpuUsPerRequest: wrk.nginxUs } : {};
      const share = (xs: Array<LoadFigures & CpuShare>) => ({
        generatorsCpuUsPerRequest: median(xs.map((x) => x.generatorsUs)),
        nginxCpuUsPerRequest: median(xs.map((x) => x.nginxUs)),
        machineBusyCores: median(xs.map((x) => x.machineBusyCores)),
        loadAverage: xs.map((x) => x.load),
      });
      const result = comparison('loadtest-ceiling', ceiling, { target: 0.8, connections: CONNECTIONS, seconds, pairs, ...wrkFigures });
      await writeResult(result);
      const generators = comparison('loadtest-generators', multi, {
        target: 1.3,
        connectionsPerGenerator: CONNECTIONS,
        seconds: processSeconds,
        pairs,
        two: share(rounds[2]),
        one: share(rounds[1]),
        ...wrkFigures,
      });
      await writeResult(generators);
      return [result, generators];
    } finally {
      await nginx.stop();
    }
  },
};
