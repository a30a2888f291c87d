// Every local core: N generator processes on this machine run the shards of one run. They share
// the run id, and the start: each runs its setup and reads the stock, says it is ready, and when
// every one still running is ready the parent gives them all one start time. One status line sums
// them; their results merge exactly (merge.ts) into one result whose `generators` say which
// generator saw what, and a generator that failed or fell behind fails the run.
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mergeResults } from '../merge.js';
import type { Progress, Status } from '../progress.js';
import type { RunResult } from '../result.js';
import type { TargetOptions } from '../target.js';
import { evaluate } from '../thresholds/index.js';
import { UsageError } from '../usage-error.js';
import { aggregateStatus } from './live.js';
import type { FromGenerator, ToGenerator } from './messages.js';
import { summarizeGenerator } from './summary.js';

export interface LocalGeneratorsOptions {
  profileFile: string;
  target: string;
  targetOptions: TargetOptions;
  count: number;
  runId: string;
  progress: Progress;
  /** how long after every generator is ready the schedule starts (default 1 s) */
  startDelayMs?: number;
}

interface Generator {
  shard: string;
  child: ChildProcess;
  ready: boolean;
  exited: boolean;
  exitCode: number | null;
  exitSignal: NodeJS.Signals | null;
  status: Status | undefined;
  error: { message: string; usage: boolean } | undefined;
  stderr: string;
  resultFile: string;
}

const WORKER = fileURLToPath(new URL('./worker.js', import.meta.url));

export async function runLocalGenerators(opts: LocalGeneratorsOptions): Promise<RunResult> {
  const { count, progress } = opts;
  const work = await mkdtemp(join(tmpdir(), `saleday-generators-${opts.runId}-`));
  const shown = new Set<string>();
  let startSent = false;
  let interrupted = false;
  try {
    const gens: Generator[] = Array.from({ length: count }, (_, index) => {
      const shard = `${index + 1}/${count}`;
      const child = fork(WORKER, [], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'], execArgv: [] });
      const g: Generator = { shard, child, ready: false, exited: false, exitCode: null, exitSignal: null, status: undefined, error: undefined, stderr: '', resultFile: join(work, `generator-${index + 1}`, 'result.json') };
      child.stderr!.setEncoding('utf8').on('data', (d: string) => (g.stderr = (g.stderr + d).slice(-4000)));
      child.on('message', (m: FromGenerator) => {
        if (m.type === 'line' && !shown.has(m.text) && !/^waiting .* for the agreed start/.test(m.text)) {
          // Every generator prints the same phase lines: show each text once (and the start once, below).
          shown.add(m.text);
          progress.line(m.text);
        } else if (m.type === 'status' && index === 0 && !startSent) progress.status(m.text);
        else if (m.type === 'update') g.status = m.status;
        else if (m.type === 'ready') g.ready = true;
        else if (m.type === 'error') g.error = { message: m.message, usage: m.usage };
        maybeStart();
      });
      const job: ToGenerator = {
        type: 'job',
        job: { profile: opts.profileFile, target: opts.target, targetOptions: opts.targetOptions, shard: { index, count }, runId: opts.runId, resultFile: g.resultFile, probe: index === 0 },
      };
      child.send(job);
      return g;
    });
    const exits = gens.map(
      (g) =>
        new Promise<void>((resolve) =>
          g.child.once('exit', (code, signal) => {
            g.exited = true;
            g.exitCode = code;
            g.exitSignal = signal;
            maybeStart();
            resolve();
          }),
        ),
    );
    // When every generator still running is ready, all start at one time.
    function maybeStart(): void {
      if (startSent || interrupted) return;
      const alive = gens.filter((g) => !g.exited);
      if (!alive.length || !alive.every((g) => g.ready)) return;
      startSent = true;
      const at = new Date(Date.now() + (opts.startDelayMs ?? 1000)).toISOString();
      progress.line(`${alive.length} generator${alive.length > 1 ? 's' : ''} ready (run ${opts.runId}): the schedule starts at ${at}`);
      for (const g of alive) g.child.send({ type: 'start', at } satisfies ToGenerator);
    }
    // Ctrl-C stops every generator (a terminal sends it to them too; this covers a parent signalled alone).
    const stop = (): void => {
      interrupted = true;
      for (const g of gens) if (!g.exited) g.child.kill('SIGTERM');
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    const ticker = setInterval(() => {
      if (!startSent) return;
      const running = gens.filter((g) => !g.exited).length;
      const s = aggregateStatus(gens.map((g) => g.status), running);
      if (s) progress.update(s);
    }, 1000);
    await Promise.all(exits);
    clearInterval(ticker);
    process.removeListener('SIGINT', stop);
    process.removeListener('SIGTERM', stop);
    progress.clear();
    if (interrupted) throw new UsageError(`interrupted: the ${count} generators were stopped; no result was written`);

    const results = new Map<Generator, RunResult>();
    for (const g of gens) {
      if (existsSync(g.resultFile)) results.set(g, JSON.parse(await readFile(g.resultFile, 'utf8')) as RunResult);
    }
    if (!results.size) {
      const first = gens.find((g) => g.error)?.error;
      if (first?.usage) throw new UsageError(first.message);
      throw new UsageError(`every generator failed: ${gens.map((g) => `${g.shard}: ${g.error?.message ?? lastLine(g.stderr) ?? exitDescription(g)}`).join('; ')}`);
    }
    const merged = mergeResults([...results.values()], { partial: true });
    merged.generators = gens.map((g) => {
      const r = results.get(g);
      const where = `${r?.processes[0]?.host ?? hostname()} pid ${r?.processes[0]?.pid ?? g.child.pid ?? '?'}`;
      const failure = r ? undefined : (g.error?.message ?? lastLine(g.stderr) ?? `${exitDescription(g)} and left no result`);
      return summarizeGenerator(g.shard, where, r, failure);
    });
    merged.verdicts = evaluate(merged);
    merged.passed = merged.verdicts.every((v) => v.ok);
    return merged;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

function exitDescription(g: Generator): string {
  return g.exitSignal ? `was killed (${g.exitSignal})` : `exited with code ${String(g.exitCode)}`;
}

function lastLine(text: string): string | undefined {
  return text.trim().split('\n').filter(Boolean).at(-1);
}
