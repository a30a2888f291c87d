// Rotation of the shop's secrets without a failed request (-e rotate=<names>), the same on both
// targets; only where the value lives differs (Secrets Manager, the local secrets file).
//
// Key sets (jwt, service-credential; environment/shared-secrets.ts `rotation: 'key-set'`):
//   1. drop a previous value whose grace has passed;
//   2. stage the new value as `next`: every reader accepts it from its next re-read on, nobody
//      sends or signs with it yet (a `next` left by an interrupted run is kept and finished);
//   3. wait until every service has re-read the secret (SECRETS_REFRESH_SECONDS, the longest any
//      service in the inventory uses, plus a margin);
//   4. promote: the new value is current (users signs with it, callers send it), the old one stays
//      `previous` for its grace: the access token lifetime (TOKEN_TTL_SECONDS) plus a re-read
//      interval for the JWT key (users may sign with the old key until it re-reads), two re-read
//      intervals for the credential (callers switch on their re-read, or on their first 401).
// Database passwords rotate by alternating users (modules of each target).
import type { Environment } from '../../../environment/index.js';
import { SHARED_SECRETS, SHOP_SERVICES, type SharedSecretName } from '../../../environment/index.js';
import { TOKEN_TTL_ASSUMED_SECONDS, TOKEN_TTL_ENV } from '../../../services/kit/auth.js';
import { dropExpiredKeys, promoteNextKey, readKeySet, stageNextKey } from '../../../services/kit/key-set.js';
import { DEFAULT_SECRETS_REFRESH_SECONDS } from '../../../services/kit/secrets.js';
import { dropExpiredCredential, promoteNextCredential, stageNextCredential } from '../../../services/kit/service-credential.js';
import { RefusedError } from '../errors.js';
import { type TaskContext, type TaskOutcome, changed } from '../runner.js';

/** `-e rotate=database` rotates every service's database password; `db-<service>` one of them. */
export const DATABASE_ROTATION = 'database';
const DB_PREFIX = 'db-';

export type KeySetName = 'jwt' | 'service-credential';

export interface RotationPlan {
  /** Key-set secrets, in the order they rotate. */
  keySets: KeySetName[];
  /** Secrets with a target-specific staged rotation (origin-header on AWS). */
  staged: SharedSecretName[];
  /** Server AUTH tokens (redis-auth on AWS: cache-token-rotation.ts). */
  cacheTokens: SharedSecretName[];
  /** Services whose database password rotates. */
  databases: string[];
  /** Names that do not apply to this target, with why. */
  notApplicable: Array<{ name: string; why: string }>;
}

/** What `-e rotate=` names mean for a target; an unknown name is refused with the names there are. */
export function planRotation(names: readonly string[], target: 'aws' | 'local', services: readonly string[] = SHOP_SERVICES.map((d) => d.name)): RotationPlan {
  const plan: RotationPlan = { keySets: [], staged: [], cacheTokens: [], databases: [], notApplicable: [] };
  const unknown: string[] = [];
  for (const name of new Set(names)) {
    const shared = (SHARED_SECRETS as Record<string, (typeof SHARED_SECRETS)[SharedSecretName] | undefined>)[name];
    if (name === DATABASE_ROTATION) plan.databases.push(...services.filter((s) => !plan.databases.includes(s)));
    else if (name.startsWith(DB_PREFIX) && services.includes(name.slice(DB_PREFIX.length))) {
      if (!plan.databases.includes(name.slice(DB_PREFIX.length))) plan.databases.push(name.slice(DB_PREFIX.length));
    } else if (!shared) unknown.push(name);
    else if (shared.only && shared.only !== target) plan.notApplicable.push({ name, why: `${name} does not apply to the ${target} target (it exists on ${shared.only} only)` });
    else if (shared.generate.kind === 'derived' || shared.generate.kind === 'public-key-set') {
      plan.notApplicable.push({ name, why: `${name} follows ${shared.generate.from}: rotate ${shared.generate.from}` });
    } else if (shared.rotation === 'key-set') plan.keySets.push(name as KeySetName);
    else if (shared.rotation === 'cache-token') plan.cacheTokens.push(name as SharedSecretName);
    else plan.staged.push(name as SharedSecretName);
  }
  if (unknown.length) {
    const known = [...Object.values(SHARED_SECRETS).filter((s) => !s.only || s.only === target).map((s) => s.name), DATABASE_ROTATION, ...services.map((s) => `${DB_PREFIX}${s}`)];
    throw new RefusedError(`-e rotate=${unknown.join(',')}: no such secret to rotate; the ${target} target rotates ${known.join(', ')}`);
  }
  plan.keySets.sort((a, b) => (a === 'jwt' ? -1 : b === 'jwt' ? 1 : 0));
  return plan;
}

export interface RotationTiming {
  /** How long every service takes to re-read a secret, with a margin: the wait between stages. */
  propagationMs: number;
  /** How long a previous value stays accepted after its promotion. */
  graceMs: Record<KeySetName, number>;
}

/** A service environment value the inventory sets, as a number (the services' defaults otherwise). */
function envSeconds(env: Environment, service: string, name: string): number | undefined {
  const v = (env.services as Record<string, { environment?: Record<string, string> } | undefined>)[service]?.environment?.[name];
  return v === undefined || !/^\d+$/.test(v) ? undefined : Number(v);
}

export function rotationTiming(env: Environment): RotationTiming {
  const services = Object.keys(env.services);
  const refreshSeconds = Math.max(...services.map((s) => envSeconds(env, s, 'SECRETS_REFRESH_SECONDS') ?? DEFAULT_SECRETS_REFRESH_SECONDS));
  const propagationMs = refreshSeconds * 1000 + Math.min(5_000, Math.max(1_000, refreshSeconds * 100));
  const ttlSeconds = envSeconds(env, 'users', TOKEN_TTL_ENV) ?? TOKEN_TTL_ASSUMED_SECONDS;
  return { propagationMs, graceMs: { jwt: ttlSeconds * 1000 + propagationMs, 'service-credential': 2 * propagationMs } };
}

/** Where a key set lives: read and write its JSON value (and its derived secret's, for jwt-public). */
export interface KeySetStore {
  read(): Promise<Record<string, unknown>>;
  /** Writes the value (and, for jwt, jwt-public made from it). */
  write(value: Record<string, unknown>): Promise<void>;
}

interface Steps {
  drop(value: Record<string, unknown>, now: Date): Promise<{ value: Record<string, unknown>; dropped: number }>;
  stage(value: Record<string, unknown>): Promise<{ value: Record<string, unknown>; staged: boolean }>;
  promote(value: Record<string, unknown>, until: Date): Promise<Record<string, unknown>>;
  /** What to say about the new value (never the value: a kid is the public key's thumbprint). */
  describe(value: Record<string, unknown>): Promise<string>;
}

const STEPS: Record<KeySetName, Steps> = {
  jwt: {
    drop: async (v, now) => {
      const r = await dropExpiredKeys(v, now);
      return { value: { ...r.secret }, dropped: r.dropped };
    },
    stage: async (v) => {
      const r = await stageNextKey(v);
      return { value: { ...r.secret }, staged: r.staged };
    },
    promote: async (v, until) => ({ ...(await promoteNextKey(v, until)).secret }),
    describe: async (v) => `key ${(await readKeySet(v)).find((k) => k.status === 'current')!.kid.slice(0, 12)}…`,
  },
  'service-credential': {
    drop: (v, now) => {
      const r = dropExpiredCredential(v, now);
      return Promise.resolve({ value: { ...r.secret }, dropped: r.dropped });
    },
    stage: (v) => {
      const r = stageNextCredential(v);
      return Promise.resolve({ value: { ...r.secret }, staged: r.staged });
    },
    promote: (v, until) => Promise.resolve({ ...promoteNextCredential(v, until).secret }),
    describe: () => Promise.resolve('new value (not shown)'),
  },
};

export interface KeySetRotationArgs {
  name: KeySetName;
  /** The secret as the target names it (saleday/production/jwt, or the file and key). */
  label: string;
  timing: RotationTiming;
  /** Waits between the stages (tests may shorten nothing: the timing comes from the inventory). */
  wait?: (ms: number) => Promise<void>;
  now?: () => Date;
}

export async function rotateKeySet(args: KeySetRotationArgs, store: KeySetStore, ctx: TaskContext): Promise<TaskOutcome> {
  const steps = STEPS[args.name];
  const now = args.now ?? (() => new Date());
  const wait = args.wait ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const secs = (ms: number) => `${Math.round(ms / 1000)} s`;
  if (ctx.check) {
    return changed(`would stage a new ${args.name} value as next in ${args.label}, wait ${secs(args.timing.propagationMs)} for every service to re-read it, then make it current (the old one accepted ${secs(args.timing.graceMs[args.name])} more)`);
  }
  const dropped = await steps.drop(await store.read(), now());
  const staged = await steps.stage(dropped.value);
  await store.write(staged.value);
  ctx.progress(`${args.label}: new value staged as next (${staged.staged ? 'made now' : 'left by an earlier run'}); waiting ${secs(args.timing.propagationMs)} for every service to re-read it`);
  await wait(args.timing.propagationMs);
  const until = new Date(now().getTime() + args.timing.graceMs[args.name]);
  // Re-read: nothing else writes the secret, but the write must not undo a change made meanwhile.
  const promoted = await steps.promote((await steps.drop(await store.read(), now())).value, until);
  await store.write(promoted);
  const parts = [
    `${args.label}: rotated, ${await steps.describe(promoted)} is current`,
    `the previous value accepted until ${until.toISOString()}`,
    ...(dropped.dropped ? [`${dropped.dropped} expired value(s) dropped`] : []),
  ];
  return changed(parts.join('; '));
}
