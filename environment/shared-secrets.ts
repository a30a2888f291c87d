// The secrets a deploy creates once per environment and services share (each service declares
// which it reads, services/<name>/declaration.ts): what each holds, why it exists, and how its
// value is made. The aws target keeps them in Secrets Manager as <project>/<environment>/<name>,
// the local target in its secrets file under <name>; values never appear in templates or output.
import type { SharedSecretName } from '../services/kit/declaration.js';

/** How a deploy makes a secret's value. */
export type SecretGenerator =
  /** An ES256 key pair {privateKey, publicKey} (services/kit/auth.ts generateSigningKeys). */
  | { readonly kind: 'signing-key-pair' }
  /** `{<key>: <32 random bytes, base64url>}`. */
  | { readonly kind: 'random-token'; readonly key: string }
  /** Some keys of another secret's value, made again whenever that one changes. */
  | { readonly kind: 'derived'; readonly from: SharedSecretName; readonly keys: readonly string[] };

export interface SharedSecret {
  readonly name: SharedSecretName;
  /** What the value holds, as the service stacks describe the parameter. */
  readonly holds: string;
  /** Why it exists (the Secrets Manager description). */
  readonly description: string;
  readonly generate: SecretGenerator;
}

export const SHARED_SECRETS: Readonly<Record<SharedSecretName, SharedSecret>> = {
  jwt: {
    name: 'jwt',
    holds: 'the JWT key pair {privateKey, publicKey}',
    description: 'ES256 key pair the users service signs tokens with',
    generate: { kind: 'signing-key-pair' },
  },
  'service-credential': {
    name: 'service-credential',
    holds: 'the service credential {token}',
    description: 'token orders presents to inventory',
    generate: { kind: 'random-token', key: 'token' },
  },
  'jwt-public': {
    name: 'jwt-public',
    holds: 'the JWT public key {publicKey}',
    description: 'public key every service verifies tokens with',
    generate: { kind: 'derived', from: 'jwt', keys: ['publicKey'] },
  },
};

/** The Secrets Manager name of a shared secret: `<project>/<environment>/<name>`. */
export function sharedSecretId(inv: { project: string; environment: string }, name: SharedSecretName): string {
  return `${inv.project}/${inv.environment}/${name}`;
}
