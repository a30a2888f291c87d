// Runs a service's operator command (its declaration's commands: migrate, seed, create-admin) from
// dist/ as its own process, the way an operator would, with only the environment given (secret
// references, never values): the narrow API of the migrations, seed and admin account modules.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { type ChangeReport, programPath } from '../../../environment/index.js';
import { dbSecretKey, secretRef } from './secrets-file.js';

export interface CommandResult {
  stdout: string;
  lines: string[];
}

export interface CommandOptions {
  args?: string[];
  env: Record<string, string>;
  stdin?: string;
  /** Each non-empty stdout line as it arrives (shown with -v). */
  onLine?: (line: string) => void;
  signal?: AbortSignal;
}

export interface ServiceCommandApi {
  /** Runs `program` of `service` (dist/services/<service>/<program>.js). */
  run(service: string, program: string, opts: CommandOptions): Promise<CommandResult>;
}

/** The commands of the services compiled under <root>/dist. */
export function serviceCommands(root: string): ServiceCommandApi {
  return { run: (service, program, opts) => runServiceCommand(root, service, program, opts) };
}

/** How many changes a command's output reports, the way its declaration says it reports them. */
export function reportedChanges(report: ChangeReport, lines: readonly string[]): number {
  const last = lines.at(-1) ?? '';
  if ('each' in report) return lines.filter((l) => report.each.test(l)).length;
  if ('count' in report) return Number(report.count.exec(last)?.[1] ?? '0');
  return report.unchangedWhen.test(last) ? 0 : 1;
}

/** What every command needs: its service's database secret (no TLS on this machine), quiet logs. */
export function commandEnv(localDir: string, service: string): Record<string, string> {
  return { DB_SECRET: secretRef(localDir, dbSecretKey(service)), DB_TLS: 'off', LOG_LEVEL: 'warn' };
}

export async function runServiceCommand(root: string, service: string, command: string, opts: CommandOptions): Promise<CommandResult> {
  const program = join(root, programPath(service, command));
  if (!existsSync(program)) throw new Error(`${program} is missing: build first (npm run build)`);
  const env: Record<string, string> = { ...opts.env };
  for (const k of ['PATH', 'HOME', 'LANG', 'TZ']) if (process.env[k] !== undefined) env[k] = process.env[k]!;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [program, ...(opts.args ?? [])], { env, stdio: ['pipe', 'pipe', 'pipe'], signal: opts.signal });
    let stdout = '';
    let stderr = '';
    let pending = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      pending += chunk;
      let nl;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        if (line.trim()) opts.onLine?.(line.trim());
      }
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (code === 0) return resolve({ stdout, lines: stdout.split('\n').map((l) => l.trim()).filter(Boolean) });
      const why = stderr.trim().split('\n').filter(Boolean).pop() ?? stdout.trim().split('\n').pop() ?? '';
      reject(new Error(`${service} ${command} failed (${signal ? `killed by ${signal}` : `exit code ${code}`})${why ? `: ${why}` : ''}`));
    });
    child.stdin.end(opts.stdin ?? '');
  });
}
