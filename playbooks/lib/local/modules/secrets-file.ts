// The secrets file module: the shared secrets (environment/shared-secrets.ts: the JWT key pair, its
// public half, the service credential), kept by the AWS play in Secrets Manager, plus the admin
// account's password, generated into the local secrets file when missing and kept otherwise; a
// derived secret follows its source. A file readable by others is made 0600. Values are never
// printed.
import { SHARED_SECRETS } from '../../../../environment/index.js';
import { deriveSecretValue, generateSecretValue, isDerived } from '../../modules/secret-values.js';
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
  const shared = Object.values(SHARED_SECRETS).filter((x) => x.only !== 'aws');
  for (const { name, generate } of shared) {
    if (!isDerived(generate) && (await secrets.ensure(name, () => generateSecretValue(generate))).created) created.push(name);
  }
  for (const { name, generate } of shared) {
    if (!isDerived(generate)) continue;
    // Made again from its source every run; news only when the source was not just generated.
    const source = secrets.get(generate.from) ?? {};
    if (secrets.set(name, await deriveSecretValue(generate, source)) && !created.includes(generate.from)) created.push(name);
  }
  if ((await secrets.ensure(ADMIN_SECRET, () => ({ email: args.adminEmail, password: generatePassword() }))).created) created.push(ADMIN_SECRET);
  const fixMode = secrets.wasOpen;
  const path = secrets.path;
  if (!created.length && !fixMode) return ok(`${path} holds every secret`);
  if (ctx.check) return changed(`would write ${path}${created.length ? ` (new: ${created.join(', ')})` : ' (mode 0600)'}`);
  await secrets.save();
  if (fixMode) ctx.progress(`${path} was readable by others: now 0600`);
  return changed(`${path}${created.length ? ` (generated: ${created.join(', ')})` : ''}, mode 0600`);
}
