// The load of a rehearsal: ./loadtest/run.mjs as a process (the playbooks read only the harness's
// profile API in-process; its run and its result stay its own), its live lines as the task's
// progress, Ctrl-C passed on, and its verdict, result and report read back from what it prints
// and from result.json.
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { failed, ok, type TaskContext, type TaskOutcome } from '../runner.js';
import type { FleetSampleLike } from './instance-hours.js';

export interface LoadRunArgs {
  root: string;
  profile: string;
  /** --target: `local` or the inventory file */
  target: string;
  stateDir?: string | undefined;
  url?: string | undefined;
  generators?: string | undefined;
  /** run the generators as ECS Fargate tasks of this AWS inventory's loadgen stack (--on aws -i) */
  generatorsOn?: { aws: string } | undefined;
  outDir: string;
  runId: string;
}

export interface LoadRunApi {
  /** Runs node with the arguments; lines of stderr as they come; resolves with the exit code and stdout. */
  run(args: string[], onLine: (line: string) => void, signal: AbortSignal): Promise<{ code: number | null; stdout: string }>;
}

export const nodeProcess: LoadRunApi = {
  run: (args, onLine, signal) =>
    new Promise((resolve, reject) => {
      const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      createInterface({ input: child.stderr }).on('line', (l) => onLine(l));
      const stop = (): void => void child.kill('SIGINT');
      signal.addEventListener('abort', stop, { once: true });
      child.once('error', reject);
      child.once('close', (code) => {
        signal.removeEventListener('abort', stop);
        resolve({ code, stdout });
      });
    }),
};

/** The harness's arguments for the rehearsal's load. */
export function loadArgs(a: LoadRunArgs): string[] {
  return [
    join(a.root, 'loadtest', 'run.mjs'),
    '--profile', a.profile,
    '--target', a.target,
    '--out', a.outDir,
    '--run-id', a.runId,
    ...(a.stateDir ? ['--state-dir', a.stateDir] : []),
    ...(a.url ? ['--url', a.url] : []),
    ...(a.generators ? ['--generators', a.generators] : []),
    // The loadgen stack was reviewed and approved with the rest of the environment by the deploy
    // just before: its change set is empty now, so --yes approves nothing new.
    ...(a.generatorsOn ? ['--on', 'aws', '-i', a.generatorsOn.aws, '--yes'] : []),
  ];
}

/** Runs the load; ok when every threshold held (data: result, report), failed with the failed verdicts otherwise. */
export async function runLoad(a: LoadRunArgs, api: LoadRunApi, ctx: TaskContext): Promise<TaskOutcome> {
  const lastLines: string[] = [];
  const { code, stdout } = await api.run(
    loadArgs(a),
    (line) => {
      lastLines.push(line);
      if (lastLines.length > 5) lastLines.shift();
      if (line.trim()) ctx.progress(line);
    },
    ctx.signal,
  );
  const result = /^result: (.+)$/m.exec(stdout)?.[1];
  const report = /^report: (.+)$/m.exec(stdout)?.[1];
  const verdict = /^verdict: (.+)$/m.exec(stdout)?.[1];
  const failedChecks = stdout.split('\n').filter((l) => /^\s+✗ /.test(l)).map((l) => l.trim());
  const generators = stdout.split('\n').filter((l) => /^\s+generator \d+\/\d+ /.test(l)).map((l) => l.trim());
  if (!result || !report || (code !== 0 && code !== 99)) {
    return failed(`the load did not run (exit ${String(code)}): ${lastLines.filter(Boolean).join(' / ') || 'no output'}`);
  }
  const data = { result, report, verdict: verdict ?? '' };
  const lines = [`${verdict ?? ''}; report ${report}`, ...failedChecks, ...generators];
  return code === 0 ? ok(lines.join('\n'), data) : { ...failed(lines.join('\n')), data };
}

/** The fleet samples of a result.json. */
export async function fleetSamples(resultFile: string): Promise<FleetSampleLike[]> {
  const r = JSON.parse(await readFile(resultFile, 'utf8')) as { fleet?: { samples?: FleetSampleLike[] } };
  return r.fleet?.samples ?? [];
}
