// The secrets a deploy creates once per environment and services share (each service declares
// which it reads, services/<name>/declaration.ts): what each holds, why it exists, and how its
// value is made. The aws target keeps them in Secrets Manager as <project>/<environment>/<name>,
// the local target in its secrets file under <name>; values never appear in templates or output.
import type { SharedSecretName } from '../services/kit/declaration.js';

/** How a deploy makes a secret's value. */
export type SecretGenerator =
  /** An ES256 key set of one current key (services/kit/key-set.ts), {privateKey, publicKey} of it at the top level. */
  | { readonly kind: 'signing-key-pair' }
  /** `{<key>: <32 random bytes, base64url>}`. */
  | { readonly kind: 'random-token'; readonly key: string }
  /** Some keys of another secret's value, made again whenever that one changes. */
  | { readonly kind: 'derived'; readonly from: SharedSecretName; readonly keys: readonly string[] }
  /** The public half of a key set ({publicKey, keys: [{kid, status, publicKey, expiresAt?}]}), made again whenever that one changes. */
  | { readonly kind: 'public-key-set'; readonly from: SharedSecretName };

export interface SharedSecret {
  readonly name: SharedSecretName;
  /** What the value holds, as the service stacks describe the parameter. */
  readonly holds: string;
  /** Why it exists (the Secrets Manager description). */
  readonly description: string;
  readonly generate: SecretGenerator;
  /**
   * 'staged': two sides must agree on the value, so a rotation first adds the new one as
   * AWSPENDING (accepted beside the current one) and the deploy promotes it once both take it.
   * 'key-set': the value is a set (current, next, previous); a rotation stages the new value as
   * `next` (every reader accepts it), waits until every service has re-read the secret, promotes
   * it (the old one stays `previous` for its grace), and drops a previous past its grace.
   * 'cache-token': a server's AUTH token; the server accepts the new token beside the old one,
   * the secret then holds it, and once every client re-read it the server accepts it only
   * (playbooks/lib/modules/cache-token-rotation.ts).
   */
  readonly rotation?: 'staged' | 'key-set' | 'cache-token';
  /**
   * 'aws': kept by the aws target only (the local shop has no CloudFront, no load balancer and no
   * ElastiCache: its Redis takes no token), so the local fleet passes no reference to it.
   */
  readonly only?: 'aws';
}

// `holds` is what the service stacks print in their parameter descriptions, so it names the shape
// every version has at the top level (the key sets add `keys`, `next`, `previous` beside it).
export const SHARED_SECRETS: Readonly<Record<SharedSecretName, SharedSecret>> = {
  jwt: {
    name: 'jwt',
    holds: 'the JWT key pair {privateKey, publicKey}',
    description: 'ES256 key pair the users service signs tokens with',
    generate: { kind: 'signing-key-pair' },
    rotation: 'key-set',
  },
  'service-credential': {
    name: 'service-credential',
    holds: 'the service credential {token}',
    description: 'token orders presents to inventory',
    generate: { kind: 'random-token', key: 'token' },
    rotation: 'key-set',
  },
  'jwt-public': {
    name: 'jwt-public',
    holds: 'the JWT public key {publicKey}',
    description: 'public key every service verifies tokens with',
    generate: { kind: 'public-key-set', from: 'jwt' },
  },
  // Read by no service: CloudFront sends it to the load balancer, which refuses requests without it
  // (cloudformation/README.md, "Edge"). Both stacks resolve it by version id, never by value.
  'origin-header': {
    name: 'origin-header',
    holds: 'the origin header value {value}',
    description: 'value CloudFront sends in X-Origin-Verify; the load balancer answers 403 without it',
    generate: { kind: 'random-token', key: 'value' },
    rotation: 'staged',
    only: 'aws',
  },
  // The ElastiCache replication group's AUTH token (cloudformation/cache.ts resolves it by version
  // id) and what users presents to it. 32 random bytes, base64url: 43 characters of [A-Za-z0-9_-],
  // inside ElastiCache's rules (16 to 128 printable characters, no @, " or /).
  'redis-auth': {
    name: 'redis-auth',
    holds: 'the cache AUTH token {authToken}',
    description: 'AUTH token of the ElastiCache replication group (the shared cache); users presents it',
    generate: { kind: 'random-token', key: 'authToken' },
    // CloudFormation sets it when it creates the group; a rotation goes through ElastiCache's own
    // update strategies (ROTATE, then SET), which CloudFormation does not offer.
    rotation: 'cache-token',
    only: 'aws',
  },
};

/** The Secrets Manager name of a shared secret: `<project>/<environment>/<name>`. */
export function sharedSecretId(inv: { project: string; environment: string }, name: SharedSecretName): string {
  return `${inv.project}/${inv.environment}/${name}`;
}
