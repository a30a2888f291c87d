// The seed module: a service's seed command (idempotent: rows already present are kept). Its last
// line says what it did, "<service> seed: N <things> inserted, ..."; changed when N > 0.
import { type TaskContext, type TaskOutcome, changed, ok, skipped } from '../../runner.js';
import type { ServiceCommandApi } from '../service-command.js';
import type { DatabaseServer } from './database-server.js';

export interface SeedArgs {
  service: string;
  /** The command's environment: the service's database secret reference. */
  env: Record<string, string>;
  server: DatabaseServer | undefined;
  /** Finds, in the command's last line, how many rows it inserted (the first group). */
  inserted: RegExp;
}

export async function runSeed(args: SeedArgs, api: ServiceCommandApi, ctx: TaskContext): Promise<TaskOutcome> {
  if (ctx.check || !args.server) return skipped('--check seeds nothing');
  const out = await api.run(args.service, 'seed', { env: args.env, onLine: (l) => ctx.detail(l), signal: ctx.signal });
  const last = out.lines.at(-1) ?? '';
  const n = Number(args.inserted.exec(last)?.[1] ?? '0');
  const text = last.replace(/^\w+ seed: /, '');
  return n > 0 ? changed(text) : ok(text);
}
