// Shared benchmark machinery: wrk as the load generator, alternating rounds against a baseline,
// median ratios, and one result file per comparison in build/bench/<name>.json.
import { spawn } from 'node:child_process';
import { mkdir, writeFile, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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
