// The secret module: make sure a Secrets Manager secret exists with a generated value. The value
// is generated here, sent once, and never printed; it changes only when the secret is created or
// when rotation is asked for (-e rotate=<name>). The outcome's data is the secret's ARN.
import { randomUUID } from 'node:crypto';
import type { SecretsApi } from '../aws/secrets.js';
import { type TaskContext, type TaskOutcome, changed, ok } from '../runner.js';

export interface SecretArgs {
  /** The secret's name in Secrets Manager, e.g. saleday/production/jwt. */
  name: string;
  description: string;
  /** Makes a new value (JSON text); called only when one is needed. */
  generate(): Promise<string>;
  rotate: boolean;
  /**
   * Rotate in stages: the new value goes in as AWSPENDING and the current one stays current, for a
   * secret two sides must agree on (the origin header); the play promotes it once both accept it.
   */
  staged?: boolean;
  tags: Record<string, string>;
  /** The data key the ARN is registered under (a service stack parameter name). */
  outputName: string;
}

export async function ensureSecret(args: SecretArgs, api: SecretsApi, ctx: TaskContext): Promise<TaskOutcome> {
  const arn = await api.describe(args.name);
  if (arn && !args.rotate) return ok(`${args.name} exists (value kept)`, { [args.outputName]: arn });
  if (ctx.check) {
    return changed(arn ? `would rotate ${args.name} (new generated value)` : `would create ${args.name} with a generated value`, arn ? { [args.outputName]: arn } : undefined);
  }
  const value = await args.generate();
  if (arn && args.staged) {
    await api.putValue(args.name, value, randomUUID(), { pending: true });
    return changed(`${args.name}: new value staged as AWSPENDING (not shown), accepted beside the current one until the switch`, { [args.outputName]: arn });
  }
  if (arn) {
    await api.putValue(args.name, value, randomUUID());
    return changed(`${args.name} rotated (new value, not shown)`, { [args.outputName]: arn });
  }
  const created = await api.create(args.name, value, { description: args.description, tags: args.tags, token: randomUUID() });
  return changed(`${args.name} created with a generated value (not shown)`, { [args.outputName]: created });
}
