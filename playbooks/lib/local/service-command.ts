// Runs a service's operator command (migrate, seed, create-admin) from dist/ as its own process,
// the way an operator would, with only the environment given (secret references, never values).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export interface CommandResult {
  stdout: string;
  lines: string[];
}

export async function runServiceCommand(
  root: string,
  service: string,
  command: string,
  opts: { args?: string[]; env: Record<string, string>; stdin?: string; onLine?: (line: string) => void; signal?: AbortSignal },
): Promise<CommandResult> {
  const program = join(root, 'dist', 'services', service, `${command}.js`);
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
