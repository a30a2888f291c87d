// What a service declares about itself, once, in services/<name>/declaration.ts: its port, path,
// the secrets it reads, the services it calls and its operator commands. The rest of the house
// (inventory schema, CloudFormation renderers, the local target, artifacts) reads declarations
// instead of naming services. Declaration files hold data only and import only types from here,
// so the environment model loads them without loading any service code.

/** Secrets the deploy creates once per environment and several services read (environment/shared-secrets.ts). */
export type SharedSecretName = 'jwt' | 'jwt-public' | 'service-credential' | 'origin-header' | 'redis-auth';

/** How an operator command's output says whether it changed anything. */
export type ChangeReport =
  /** One line per change, e.g. `applied 0003-product-pages` (migrate). */
  | { readonly each: RegExp }
  /** The last line counts the changes in its first group, e.g. `12 product(s) inserted` (seeds). */
  | { readonly count: RegExp }
  /** The last line matches this when nothing changed, e.g. `already exists, unchanged` (create-admin). */
  | { readonly unchangedWhen: RegExp };

export interface OperatorCommand {
  /** What a deploy runs it for: the schema, seed data, or the admin account. */
  readonly role: 'migrate' | 'seed' | 'admin';
  /** The deploy task that runs it, e.g. `seed stock`. */
  readonly task: string;
  /** Arguments every run passes (migrate `up`); a deploy adds its own where the role needs them. */
  readonly args?: readonly string[];
  readonly reports: ChangeReport;
}

export interface ServiceDeclaration<Name extends string = string> {
  /** Lower-case: the inventory key, the database and its user, the stack `service-<name>`. */
  readonly name: Name;
  /** Where it listens when PORT is not set. */
  readonly defaultPort: number;
  /** The path prefix its routes live under, which the load balancer forwards to it. */
  readonly pathPrefix: `/api/${string}`;
  /**
   * Shared secrets it reads, by the environment variable that holds the reference. Every service
   * also reads its own database secret (DB_SECRET), which is not listed.
   */
  readonly secrets: Readonly<Record<string, SharedSecretName>>;
  /** Services it calls, by the environment variable that holds their base URL. */
  readonly calls: Readonly<Record<string, string>>;
  /**
   * Paths under its prefix whose GET/HEAD answers are the same for everyone (`/products/*`): the
   * edge may keep them for as long as the answer's Cache-Control allows. With the query strings
   * that select what the answer holds (the cache key), and nothing personal, ever.
   */
  readonly publicReads?: readonly { readonly path: string; readonly query?: readonly string[] }[];
  /** Operator commands by program: `dist/services/<name>/<program>.js` (see programPath). */
  readonly commands: Readonly<Record<string, OperatorCommand>>;
  /** A path that answers 200 once the service works, for smoke checks through the front door. */
  readonly smokePath?: string;
  /**
   * The shared store it keeps fleet-wide counters in (Redis, services/kit/shared-store.ts), by the
   * variables that name it: its URL, and the key prefix that keeps environments sharing one Redis
   * apart. A deploy sets both (locally: the machine's Redis or a private redis-server; on AWS the
   * cache stack's `rediss://<primary endpoint>:<port>`). Its auth token is a shared secret (`secrets`).
   */
  readonly sharedStore?: { readonly url: string; readonly keyPrefix: string };
  /**
   * Database pools one process opens besides the kit's Sequelize pool (services/kit/db.ts: a write
   * pool on the primary and, with read replicas, a read pool spread over them, DB_POOL_MAX each).
   * `rawReads`: plain mysql2 pools for hot reads (services/kit/raw-read.ts), DB_POOL_MAX each, one
   * per read replica or one on the primary. The preflight's connection budget counts these.
   */
  readonly databasePools?: { readonly rawReads?: boolean };
}

/** DB_POOL_MAX when the environment does not set it: the connections one pool may open. */
export const DEFAULT_DB_POOL_MAX = 10;

/**
 * The one place the compiled layout is spelled: a service's program relative to the repository
 * root, which is also an artifact's root. The server itself is the program `main`.
 */
export function programPath(service: string, program = 'main'): string {
  return `dist/services/${service}/${program}.js`;
}
