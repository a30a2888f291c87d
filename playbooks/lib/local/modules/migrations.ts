// The migrations module: a service's pending migrations, run by its own `migrate up` command against
// its database (the command prints one "applied <name>" line per migration it ran).
import { type TaskContext, type TaskOutcome, changed, ok, skipped } from '../../runner.js';
import type { ServiceCommandApi } from '../service-command.js';
import type { DatabaseServer } from './database-server.js';

export interface MigrationsArgs {
  service: string;
  /** The command's environment: the service's database secret reference. */
  env: Record<string, string>;
  /** None under --check when the database server would be started. */
  server: DatabaseServer | undefined;
}

export async function runMigrations(args: MigrationsArgs, api: ServiceCommandApi, ctx: TaskContext): Promise<TaskOutcome> {
  if (ctx.check || !args.server) return skipped('--check runs no migrations');
  const out = await api.run(args.service, 'migrate', { args: ['up'], env: args.env, onLine: (l) => ctx.detail(l), signal: ctx.signal });
  const applied = out.lines.filter((l) => l.startsWith('applied'));
  return applied.length ? changed(`${applied.length} applied`) : ok('schema is up to date');
}
