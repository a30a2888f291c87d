// Shared benchmark machinery: wrk and autocannon as load generators, alternating rounds against a
// baseline, median ratios, CPU time per request by process (a figure a loaded machine disturbs far
// less than the rate), and one result file per comparison in build/bench/<name>.json.
import { spawn } from 'node:child_process';
import { mkdir, readFile, writeFile, mkdtemp } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';

export interface BenchResult {
  name: string;
  value: number;
  baseline: number;
  ratio: number;
  unit: string;
  p99?: number;
  baselineP99?: number;
  /** Anything else worth keeping (rounds, target, notes). */
  [extra: string]: unknown;
}

export interface LoadFigures {
  /** requests (or operations) per second */
  rate: number;
  /** p99 latency in milliseconds */
  p99Ms: number;
  /** non-2xx/3xx responses and socket errors */
  errors: number;
}

export interface WrkOptions {
  url: string;
  connections: number;
  durationSeconds: number;
  threads?: number;
  /** Lua source for wrk's -s (e.g. a request() that spreads paths). */
  script?: string;
}

/** autocannon in this process for `seconds` (with `headers` on every request): requests/s over the whole run, p99, errors. */
export async function runAutocannon(url: string, connections: number, seconds: number, headers: Record<string, string> = {}): Promise<LoadFigures> {
  const r = await autocannon({ url, connections, duration: seconds, pipelining: 1, headers });
  return { rate: r.requests.total / r.duration, p99Ms: r.latency.p99, errors: r.errors + r.timeouts + r.non2xx };
}

/** Runs wrk once and parses its figures (requests/s, p99, errors). */
export async function runWrk(opts: WrkOptions): Promise<LoadFigures> {
  const args = ['--latency', '-t', String(opts.threads ?? 1), '-c', String(opts.connections), '-d', `${opts.durationSeconds}s`];
  if (opts.script) {
    const dir = await mkdtemp(join(tmpdir(), 'saleday-wrk-'));
    const file = join(dir, 'script.lua');
    await writeFile(file, opts.script);
    args.push('-s', file);
  }
  args.push(opts.url);
  const out = await run('wrk', args);
  const rate = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN);
  const p99 = /\s99%\s+([\d.]+)(us|ms|s)\b/.exec(out);
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] ?? 0);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const socketErrors = socket ? socket.slice(1).reduce((a, b) => a + Number(b), 0) : 0;
  if (!Number.isFinite(rate) || !p99) throw new Error(`could not parse wrk output:\n${out}`);
  const p99Ms = Number(p99[1]) * (p99[2] === 'us' ? 0.001 : p99[2] === 's' ? 1000 : 1);
  return { rate, p99Ms, errors: non2xx + socketErrors };
}

export function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', (err) => reject(new Error(`${cmd} could not be started (${err.message}); install it (apt-get install ${cmd})`)));
    child.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${cmd} exited with ${code}:\n${out}`))));
  });
}

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/**
 * Alternates `pairs` rounds of subject and baseline (subject first on odd rounds, baseline first on
 * even ones, so drift on a shared machine hits both alike) and returns the median of each.
 */
export async function alternate(
  pairs: number,
  subject: () => Promise<LoadFigures>,
  baseline: () => Promise<LoadFigures>,
  progress: (line: string) => void = (l) => process.stdout.write(`${l}\n`),
): Promise<{ subject: LoadFigures; baseline: LoadFigures; ratios: number[] }> {
  const s: LoadFigures[] = [];
  const b: LoadFigures[] = [];
  for (let i = 0; i < pairs; i++) {
    if (i % 2 === 0) {
      s.push(await subject());
      b.push(await baseline());
    } else {
      b.push(await baseline());
      s.push(await subject());
    }
    progress(`  round ${i + 1}/${pairs}: ${s[i]!.rate.toFixed(0)} vs ${b[i]!.rate.toFixed(0)} /s (ratio ${(s[i]!.rate / b[i]!.rate).toFixed(2)})`);
  }
  const pick = (xs: LoadFigures[]): LoadFigures => ({
    rate: median(xs.map((x) => x.rate)),
    p99Ms: median(xs.map((x) => x.p99Ms)),
    errors: xs.reduce((a, x) => a + x.errors, 0),
  });
  return { subject: pick(s), baseline: pick(b), ratios: s.map((x, i) => x.rate / b[i]!.rate) };
}

export async function writeResult(result: BenchResult): Promise<string> {
  const dir = join(process.cwd(), 'build', 'bench');
  await mkdir(dir, { recursive: true });
  const file = join(dir, `${result.name}.json`);
  await writeFile(file, `${JSON.stringify(result, null, 2)}\n`);
  return file;
}

/** Bench durations: BENCH_SECONDS and BENCH_PAIRS let a quick run check the script itself. */
export const benchSeconds = (fallback: number): number => Number(process.env.BENCH_SECONDS ?? fallback);
export const benchPairs = (fallback: number): number => Math.max(1, Number(process.env.BENCH_PAIRS ?? fallback));

/** The one-minute load average, rounded: printed beside the figures of a round. */
export const loadAverage = (): number => Number(loadavg()[0]!.toFixed(2));

/** CPU time (user + system, ms) a process has used so far, from /proc (Linux); 0 when it is gone. */
export async function cpuMs(pid: number): Promise<number> {
  try {
    const fields = (await readFile(`/proc/${pid}/stat`, 'utf8')).replace(/^.*\) /s, '').split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime, stime in clock ticks (USER_HZ 100)
  } catch {
    return 0;
  }
}

/** A process and its descendants (HAProxy's master and its worker), from /proc's children lists. */
export async function processTree(pid: number): Promise<number[]> {
  const tasks = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').catch(() => '');
  const kids = tasks.split(/\s+/).filter(Boolean).map(Number);
  return [pid, ...(await Promise.all(kids.map(processTree))).flat()];
}

/** The processes to watch, by name; `self` is this process (the in-process load generator). */
export type ProcessGroups = Record<string, number[]>;

export interface CpuFigures extends LoadFigures {
  /** CPU microseconds per answered request, by process group */
  cpuUsPerRequest: Record<string, number>;
  /** one-minute load average at the end of the round */
  load: number;
}

/** Runs a round and adds what each process group spent per request (CPU µs) and the load average. */
export async function withCpu(groups: ProcessGroups, seconds: number, round: () => Promise<LoadFigures>): Promise<CpuFigures> {
  const sum = async (pids: number[]) => (await Promise.all(pids.map(cpuMs))).reduce((a, b) => a + b, 0);
  const names = Object.keys(groups);
  const before = await Promise.all(names.map((n) => sum(groups[n]!)));
  const self = process.cpuUsage();
  const figures = await round();
  const used = process.cpuUsage(self);
  const selfMs = (used.user + used.system) / 1000;
  const after = await Promise.all(names.map((n) => sum(groups[n]!)));
  const requests = Math.max(1, figures.rate * seconds);
  const cpuUsPerRequest = Object.fromEntries(names.map((n, i) => [n, Math.round(((after[i]! - before[i]!) * 1000) / requests)]));
  cpuUsPerRequest.self = Math.round((selfMs * 1000) / requests);
  return { ...figures, cpuUsPerRequest, load: loadAverage() };
}

/** Medians, per key, of the CPU µs per request of several rounds. */
export function medianCpu(rounds: CpuFigures[]): Record<string, number> {
  const keys = [...new Set(rounds.flatMap((r) => Object.keys(r.cpuUsPerRequest)))];
  return Object.fromEntries(keys.map((k) => [k, median(rounds.map((r) => r.cpuUsPerRequest[k] ?? 0))]));
}

/** A comparison's result from alternate()'s medians: value, baseline, ratio, p99s, errors, rounds. */
export function comparison(
  name: string,
  r: { subject: LoadFigures; baseline: LoadFigures; ratios: number[] },
  extra: Record<string, unknown> & { unit?: string; target?: number },
): BenchResult {
  return {
    name,
    value: r.subject.rate,
    baseline: r.baseline.rate,
    ratio: r.subject.rate / r.baseline.rate,
    unit: 'req/s',
    p99: r.subject.p99Ms,
    baselineP99: r.baseline.p99Ms,
    errors: r.subject.errors + r.baseline.errors,
    roundRatios: r.ratios,
    ...extra,
  };
}

/** Busy CPU time of the whole machine (every process, ours or not), in ms, from /proc/stat. */
export async function machineBusyMs(): Promise<number> {
  const cpu = (await readFile('/proc/stat', 'utf8')).split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const idle = (cpu[3] ?? 0) + (cpu[4] ?? 0); // idle + iowait
  return ((cpu.reduce((a, b) => a + b, 0) - idle) * 1000) / 100;
}

/**
 * CPU time of a process tree whose processes may exit before it can be read at the end (a child
 * command and its forks): samples every pid in the tree every `everyMs` and keeps each one's last
 * figure, so the sum is what the tree used, less at most `everyMs` of each process's last moments.
 */
export function sampleTree(pid: number, everyMs = 250): { stop: () => Promise<number> } {
  const last = new Map<number, number>();
  let pending: Promise<void> = Promise.resolve();
  const sample = () =>
    (pending = pending.then(async () => {
      for (const p of await processTree(pid)) {
        const ms = await cpuMs(p);
        if (ms > 0) last.set(p, ms);
      }
    }));
  void sample();
  const timer = setInterval(() => void sample(), everyMs);
  return {
    async stop() {
      clearInterval(timer);
      await pending;
      return [...last.values()].reduce((a, b) => a + b, 0);
    },
  };
}
