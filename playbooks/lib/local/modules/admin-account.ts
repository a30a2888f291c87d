// The admin account module: the shop's admin, created by the users service's `create-admin`
// command with the email and generated password the secrets file holds (the password reaches the
// command in its environment, never on its command line or in the output).
import { type TaskContext, type TaskOutcome, changed, ok, skipped } from '../../runner.js';
import type { SecretsFile } from '../secrets-file.js';
import type { ServiceCommandApi } from '../service-command.js';
import type { DatabaseServer } from './database-server.js';
import { ADMIN_SECRET } from './secrets-file.js';

export interface AdminAccountArgs {
  service: string;
  /** The command's environment: the service's database secret reference. */
  env: Record<string, string>;
  server: DatabaseServer | undefined;
}

export interface AdminAccountApi {
  commands: ServiceCommandApi;
  secrets: SecretsFile;
}

export async function ensureAdminAccount(args: AdminAccountArgs, api: AdminAccountApi, ctx: TaskContext): Promise<TaskOutcome> {
  if (ctx.check || !args.server) return skipped('--check creates no account');
  const admin = api.secrets.get<{ email: string; password: string }>(ADMIN_SECRET);
  if (!admin) throw new Error(`${api.secrets.path} has no "${ADMIN_SECRET}" secret: run the secrets file task (deploy without --tags/--skip-tags)`);
  const out = await api.commands.run(args.service, 'create-admin', {
    args: ['--email', admin.email, '--name', 'Shop admin'],
    env: { ...args.env, ADMIN_PASSWORD: admin.password },
    signal: ctx.signal,
  });
  const line = out.lines.at(-1) ?? '';
  const where = `${admin.email} (password in ${api.secrets.path} under "${ADMIN_SECRET}")`;
  return /unchanged/.test(line) ? ok(where) : changed(`${where}: ${line.replace(/^admin \S+ /, '')}`);
}
