// The values of the shared secrets (environment/shared-secrets.ts), made the same way by both
// targets: a first value from its generator, a derived one (jwt-public) from its source. Values are
// returned to be stored, never printed.
import { randomBytes } from 'node:crypto';
import type { SecretGenerator } from '../../../environment/index.js';
import { newKeySetSecret, publicKeySet } from '../../../services/kit/key-set.js';

export type SourceGenerator = Extract<SecretGenerator, { kind: 'signing-key-pair' | 'random-token' }>;
export type DerivedGenerator = Extract<SecretGenerator, { kind: 'derived' | 'public-key-set' }>;

export function isDerived(g: SecretGenerator): g is DerivedGenerator {
  return g.kind === 'derived' || g.kind === 'public-key-set';
}

/** A first value. */
export async function generateSecretValue(g: SourceGenerator): Promise<Record<string, unknown>> {
  if (g.kind === 'signing-key-pair') return { ...(await newKeySetSecret()) };
  return { [g.key]: randomBytes(32).toString('base64url') };
}

/** A derived value from its source's value. */
export async function deriveSecretValue(g: DerivedGenerator, source: Record<string, unknown>): Promise<Record<string, unknown>> {
  if (g.kind === 'public-key-set') return { ...(await publicKeySet(source)) };
  return Object.fromEntries(g.keys.map((k) => [k, source[k]]));
}
