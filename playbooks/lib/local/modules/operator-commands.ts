// The operator command modules: what a service's declaration lists under commands, run by role.
//   migrate  its pending migrations (`migrate up`); the command reports each one it applied
//   seed     its seed data, idempotent (rows already present are kept); the last line counts
//            what it inserted, "<service> seed: N <things> inserted, ..."
//   admin    the shop's admin account (the users service's create-admin), with the email and
//            generated password the secrets file holds; the password reaches the command in its
//            environment, never on its command line or in the output
// Each runs against the service's own database, so under --check (no database work) it is skipped.
import type { OperatorCommand, ServiceCatalogue } from '../../../../environment/index.js';
import { type TaskContext, type TaskOutcome, changed, ok, skipped } from '../../runner.js';
import type { SecretsFile } from '../secrets-file.js';
import { type CommandOptions, type ServiceCommandApi, reportedChanges } from '../service-command.js';
import type { DatabaseServer } from './database-server.js';
import { ADMIN_SECRET } from './secrets-file.js';

/** A command as a service declares it: its program (dist/services/<service>/<program>.js) and role. */
export interface DeclaredCommand {
  service: string;
  program: string;
  command: OperatorCommand;
}

/** The commands of one role the services declare, in catalogue order. */
export function declaredCommands(services: ServiceCatalogue, role: OperatorCommand['role']): DeclaredCommand[] {
  return services.flatMap((d) => Object.entries(d.commands).filter(([, c]) => c.role === role).map(([program, command]) => ({ service: d.name, program, command })));
}

export interface CommandArgs extends DeclaredCommand {
  /** The command's environment: the service's database secret reference. */
  env: Record<string, string>;
  /** Found by the database server module; none under --check when it would start one. */
  server: DatabaseServer | undefined;
}

export async function runMigrations(args: CommandArgs, api: ServiceCommandApi, ctx: TaskContext): Promise<TaskOutcome> {
  if (ctx.check || !args.server) return skipped('--check runs no migrations');
  const out = await run(args, api, ctx);
  const applied = reportedChanges(args.command.reports, out.lines);
  return applied ? changed(`${applied} applied`) : ok('schema is up to date');
}

export async function runSeed(args: CommandArgs, api: ServiceCommandApi, ctx: TaskContext): Promise<TaskOutcome> {
  if (ctx.check || !args.server) return skipped('--check seeds nothing');
  const out = await run(args, api, ctx);
  const text = (out.lines.at(-1) ?? '').replace(/^\w+ seed: /, '');
  return reportedChanges(args.command.reports, out.lines) ? changed(text) : ok(text);
}

export async function ensureAdminAccount(args: CommandArgs, api: { commands: ServiceCommandApi; secrets: SecretsFile }, ctx: TaskContext): Promise<TaskOutcome> {
  if (ctx.check || !args.server) return skipped('--check creates no account');
  const admin = api.secrets.get<{ email: string; password: string }>(ADMIN_SECRET);
  if (!admin) throw new Error(`${api.secrets.path} has no "${ADMIN_SECRET}" secret: run the secrets file task (deploy without --tags/--skip-tags)`);
  // Its one line becomes the outcome's message, so -v does not repeat it.
  const out = await run(args, api.commands, ctx, { args: ['--email', admin.email, '--name', 'Shop admin'], env: { ADMIN_PASSWORD: admin.password }, quiet: true });
  const where = `${admin.email} (password in ${api.secrets.path} under "${ADMIN_SECRET}")`;
  return reportedChanges(args.command.reports, out.lines) ? changed(`${where}: ${(out.lines.at(-1) ?? '').replace(/^admin \S+ /, '')}`) : ok(where);
}

/** Runs the declared program with its declared arguments (and the role's), lines shown with -v. */
function run(args: CommandArgs, api: ServiceCommandApi, ctx: TaskContext, more: { args?: string[]; env?: Record<string, string>; quiet?: boolean } = {}) {
  const opts: CommandOptions = {
    args: [...(args.command.args ?? []), ...(more.args ?? [])],
    env: { ...args.env, ...more.env },
    signal: ctx.signal,
    ...(more.quiet ? {} : { onLine: (l: string) => ctx.detail(l) }),
  };
  return api.run(args.service, args.program, opts);
}
