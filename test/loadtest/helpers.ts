// Small servers and runners for the harness's tests: node:http servers on port 0 that stand in
// for the shop, temporary profiles, and the harness run in-process or through ./loadtest/run.mjs.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseProfile } from '../../loadtest/lib/profile/load.js';
import { Progress } from '../../loadtest/lib/progress.js';
import type { RunResult } from '../../loadtest/lib/result.js';
import { runProfile, type RunOptions } from '../../loadtest/lib/runner.js';
import type { ScalingProbe } from '../../loadtest/lib/probes/probe.js';
import type { Shard } from '../../loadtest/lib/schedule.js';
import { runNode, type CommandResult } from '../helpers/processes.js';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface TestTap {
  teardown(fn: () => unknown): void;
}

export type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

export async function startServer(t: TestTap, handler: Handler): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => handler(req, res, body));
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

export function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

export async function tempDir(t: TestTap, prefix = 'saleday-lt-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

export async function writeProfile(t: TestTap, text: string, name = 'profile.yaml'): Promise<string> {
  const file = join(await tempDir(t), name);
  await writeFile(file, text);
  return file;
}

/** Runs a profile in this process against a URL (and optionally a probe). */
export function runInProcess(text: string, url: string, opts: { shard?: Shard; probe?: ScalingProbe; file?: string } & Partial<RunOptions> = {}): Promise<RunResult> {
  const profile = parseProfile(text, opts.file ?? 'test.yaml');
  return runProfile({
    profile,
    target: { kind: opts.probe ? 'local' : 'url', url, label: url, probe: opts.probe },
    progress: new Progress(process.stderr, true),
    ...(opts.shard ? { shard: opts.shard } : {}),
    ...(opts.startAt ? { startAt: opts.startAt } : {}),
    ...(opts.runId ? { runId: opts.runId } : {}),
    ...(opts.sessions ? { sessions: opts.sessions } : {}),
    ...(opts.signIn ? { signIn: opts.signIn } : {}),
  });
}

export type CliRun = CommandResult;

/** Runs ./loadtest/run.mjs (the built harness) as a user would. */
export function runCli(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  const inherited = Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined));
  return runNode(join(ROOT, 'loadtest', 'run.mjs'), args, { ...inherited, ...env });
}

/** The folder a CLI run wrote its result to (from its "result:" line). */
export function resultDir(run: CliRun): string {
  const m = /^result: (.+)\/result\.json$/m.exec(run.stdout);
  if (!m) throw new Error(`no result line in:\n${run.stdout}\n${run.stderr}`);
  return m[1]!;
}

export type RunEndpoints = Record<string, { errors: number; statuses: Record<string, number> }>;

/** A CLI run's answers by endpoint and status (from its result.json; {} when it wrote none). */
export async function runEndpoints(run: CliRun): Promise<RunEndpoints> {
  const m = /^result: (.+result\.json)$/m.exec(run.stdout);
  if (!m) return {};
  return (JSON.parse(await readFile(m[1]!, 'utf8')) as { recording: { endpoints: RunEndpoints } }).recording.endpoints;
}

/** The endpoints of a run that had errors, one line each with their statuses. */
export function failedEndpoints(endpoints: RunEndpoints): string[] {
  return Object.entries(endpoints).filter(([, e]) => e.errors > 0).map(([name, e]) => `${name}: ${JSON.stringify(e.statuses)}`);
}

/**
 * The smoke profile as a gentle load to run beside an end-to-end test of the local target: every
 * sale-day journey (browse, search, login and checkout, register and who-am-I) at `rate` journeys
 * a second for `seconds`, judged on errors (`maxErrorRate`) and, unless another load buys the same
 * products (`othersBuy`), oversell. Registration hashes passwords, so the rates stay low for a
 * shared CI machine. Returns the profile file written in `dir`.
 */
export async function besideProfile(dir: string, opts: { seconds: number; rate: number; maxErrorRate: string; othersBuy?: boolean }): Promise<string> {
  const profile = (await readFile(join(ROOT, 'loadtest/profiles/smoke.yaml'), 'utf8'))
    .replace(/^timeout: .*$/m, 'timeout: 30s')
    .replace('{ journey: register-user, each: user, rate: 10 }', '{ journey: register-user, each: user, rate: 2 }')
    .replace(/phases:[\s\S]*?\n\n/, `phases:\n  - { name: steady, duration: ${opts.seconds}s, rate: ${opts.rate} }\n\n`)
    .replace(/thresholds:[\s\S]*$/, `thresholds:\n  - { metric: errorRate, max: ${opts.maxErrorRate} }\n${opts.othersBuy ? '' : '  - { metric: oversell }\n'}`);
  const file = join(dir, 'beside.yaml');
  await writeFile(file, profile);
  return file;
}

/** Polls until `check` holds (no fixed sleeps), failing after `timeoutMs`. */
export async function until(check: () => boolean | Promise<boolean>, timeoutMs = 20_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setTimeout(r, 20));
  }
}
