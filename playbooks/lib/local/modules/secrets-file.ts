// The secrets file module: the shared secrets the AWS play keeps in Secrets Manager (the JWT key
// pair and its public half, the service credential) plus the admin account's password, generated
// into the local secrets file when missing and kept otherwise. A file readable by others is made
// 0600. Values are never printed.
import { generateSigningKeys } from '../../../../services/kit/auth.js';
import { type TaskContext, type TaskOutcome, changed, ok } from '../../runner.js';
import { type SecretsFile, generatePassword } from '../secrets-file.js';

/** The secrets file key of the admin account {email, password}. */
export const ADMIN_SECRET = 'admin';

export interface SecretsFileArgs {
  /** The admin account's email (its password is generated). */
  adminEmail: string;
}

export async function ensureSecretsFile(args: SecretsFileArgs, secrets: SecretsFile, ctx: TaskContext): Promise<TaskOutcome> {
  const created: string[] = [];
  const jwt = await secrets.ensure('jwt', async () => ({ ...(await generateSigningKeys()) }));
  if (jwt.created) created.push('jwt');
  // The public half follows the pair; it is news only when the pair was not just generated.
  if (secrets.set('jwt-public', { publicKey: jwt.value.publicKey }) && !jwt.created) created.push('jwt-public');
  if ((await secrets.ensure('service-credential', () => ({ token: generatePassword() }))).created) created.push('service-credential');
  if ((await secrets.ensure(ADMIN_SECRET, () => ({ email: args.adminEmail, password: generatePassword() }))).created) created.push(ADMIN_SECRET);
  const fixMode = secrets.wasOpen;
  const path = secrets.path;
  if (!created.length && !fixMode) return ok(`${path} holds every secret`);
  if (ctx.check) return changed(`would write ${path}${created.length ? ` (new: ${created.join(', ')})` : ' (mode 0600)'}`);
  await secrets.save();
  if (fixMode) ctx.progress(`${path} was readable by others: now 0600`);
  return changed(`${path}${created.length ? ` (generated: ${created.join(', ')})` : ''}, mode 0600`);
}
