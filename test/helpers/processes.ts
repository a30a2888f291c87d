// Real processes from dist/: a service started alone as `node dist/services/<name>/main.js` (the
// documented command) on a free port, and one-shot commands (migrate, seed, create-admin). `npm
// test` builds dist/ first; running tap alone needs `npm run build`.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { TestDatabase, TestTap } from './mysql.js';

export const ROOT = join(import.meta.dirname, '..', '..');

export function distFile(relative: string): string {
  const file = join(ROOT, 'dist', relative);
  if (!existsSync(file)) throw new Error(`${file} is missing: run \`npm run build\` first`);
  return file;
}

/** The environment a service needs against a test database (secret references, free port, quiet logs). */
export function serviceEnv(db: TestDatabase, extra: Record<string, string> = {}): Record<string, string> {
  return {
    PORT: '0',
    HOST: '127.0.0.1',
    DB_SECRET: db.refs.db,
    JWT_VERIFY_SECRET: db.refs.jwtVerify,
    JWT_SIGNING_SECRET: db.refs.jwtSigning,
    MIGRATE_ON_START: 'true',
    ACCESS_LOG: 'false',
    ...extra,
  };
}

export interface SpawnedService {
  name: string;
  url: string;
  child: ChildProcess;
  /** Every JSON log line the process wrote so far. */
  logs: Array<Record<string, unknown>>;
  /** Resolves with the exit code (or the signal's name) once the process is gone. */
  exited: Promise<number | string>;
  /** Resolves once a log line satisfies `match`. */
  waitForLog(match: (line: Record<string, unknown>) => boolean): Promise<Record<string, unknown>>;
  stderr(): string;
}

/** Starts `node dist/services/<name>/main.js`; resolves once it logs its URL. Killed at teardown. */
export async function spawnService(t: TestTap, name: string, env: Record<string, string>): Promise<SpawnedService> {
  const child = spawn(process.execPath, [distFile(`services/${name}/main.js`)], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, NODE_NO_WARNINGS: '1', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: Array<Record<string, unknown>> = [];
  const waiters: Array<{ match: (l: Record<string, unknown>) => boolean; resolve: (l: Record<string, unknown>) => void }> = [];
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  createInterface({ input: child.stdout }).on('line', (text) => {
    let line: Record<string, unknown>;
    try {
      line = JSON.parse(text) as Record<string, unknown>;
    } catch {
      line = { msg: text };
    }
    logs.push(line);
    for (const w of waiters.splice(0)) {
      if (w.match(line)) w.resolve(line);
      else waiters.push(w);
    }
  });
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  });
  const waitForLog = (match: (l: Record<string, unknown>) => boolean) => {
    const seen = logs.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise<Record<string, unknown>>((resolve, reject) => {
      waiters.push({ match, resolve });
      void exited.then((code) => reject(new Error(`${name} exited (${code}) before the expected log line:\n${stderr}`)));
    });
  };
  const listening = await waitForLog((l) => typeof l.url === 'string' && /listening/.test(String(l.msg)));
  return { name, url: String(listening.url), child, logs, exited, waitForLog, stderr: () => stderr };
}

export interface CommandResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node dist/<script> ...args` to completion, with `input` on stdin. */
export function runCommand(script: string, args: string[], env: Record<string, string>, input?: string): Promise<CommandResult> {
  return runNode(distFile(script), args, { PATH: process.env.PATH ?? '', NODE_NO_WARNINGS: '1', ...env }, input);
}

/** Runs `node <file> ...args` from the repository root with exactly `env`, to completion. */
export function runNode(file: string, args: string[], env: Record<string, string>, input?: string): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [file, ...args], { cwd: ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input ?? '');
  });
}

/** Polls `probe` until it returns true (bounded); no fixed sleeps. */
export async function waitUntil(probe: () => Promise<boolean>, what: string, timeoutMs = 30_000, intervalMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await probe().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
