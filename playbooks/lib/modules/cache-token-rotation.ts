// Rotation of the cache's AUTH token (-e rotate=redis-auth) without a failed request. The server
// and its clients must agree on the token, so it changes in the order ElastiCache's update
// strategies allow (ROTATE: the new token accepted beside the one in use; SET: the new one only):
//   1. make the new token and keep it in the secret as `next` (read by nobody: users presents
//      `authToken`), so an interrupted run finishes with the same token;
//   2. the server accepts it beside the one in use;
//   3. the secret's `authToken` becomes the new token; users re-reads it within
//      SECRETS_REFRESH_SECONDS and its next (re)connection presents it;
//   4. wait for that, then the server accepts the new token only.
// The server is ElastiCache's replication group on AWS (playbooks/lib/aws/elasticache.ts); any
// server with the same two steps (a Redis ACL user's passwords) fits the interface.
import { randomBytes } from 'node:crypto';
import type { AuthTokenStrategy, ElastiCacheApi } from '../aws/elasticache.js';
import { sleep } from '../aws/retry.js';
import { type TaskContext, type TaskOutcome, changed } from '../runner.js';

/** The two steps of a token change the server offers. */
export interface CacheTokenServer {
  /** Where the server is, for the output (never a token). */
  readonly label: string;
  /** The server accepts `token` beside the token in use (returns once it does). */
  addToken(token: string): Promise<void>;
  /** The server accepts `token` only (returns once it does). */
  keepOnly(token: string): Promise<void>;
}

/** Where the token lives: the secret's JSON value ({authToken, next?}). */
export interface CacheTokenStore {
  read(): Promise<Record<string, unknown>>;
  write(value: Record<string, unknown>): Promise<void>;
}

export interface CacheTokenRotationArgs {
  /** The secret as the target names it. */
  label: string;
  /** How long every instance takes to re-read the secret, with a margin (rotationTiming). */
  propagationMs: number;
  wait?: (ms: number) => Promise<void>;
}

/** A new token: 32 random bytes, base64url (43 characters inside ElastiCache's AUTH rules). */
export function newCacheToken(): string {
  return randomBytes(32).toString('base64url');
}

export async function rotateCacheToken(args: CacheTokenRotationArgs, store: CacheTokenStore, server: CacheTokenServer, ctx: TaskContext): Promise<TaskOutcome> {
  const wait = args.wait ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const secs = `${Math.round(args.propagationMs / 1000)} s`;
  if (ctx.check) {
    return changed(`would add a new token to ${server.label} beside the one in use, make it ${args.label}'s authToken, wait ${secs} for every instance to re-read it, then have ${server.label} accept the new token only`);
  }
  const value = await store.read();
  const left = typeof value.next === 'string' && value.next !== '' && value.next !== value.authToken ? value.next : undefined;
  const next = left ?? newCacheToken();
  if (!left) await store.write({ ...value, next });
  ctx.progress(`${args.label}: new token kept as next (${left ? 'left by an earlier run' : 'made now'}); ${server.label} accepts it beside the one in use…`);
  await server.addToken(next);
  const promoted: Record<string, unknown> = { ...value, authToken: next };
  delete promoted.next;
  await store.write(promoted);
  ctx.progress(`${args.label}: the new token is authToken; waiting ${secs} for every instance to re-read it`);
  await wait(args.propagationMs);
  await server.keepOnly(next);
  return changed(`${args.label}: rotated; ${server.label} accepts the new token only (not shown)`);
}

export interface GroupWaitOptions {
  pollMs: number;
  /** How long a modification may take before the run stops (ElastiCache takes minutes). */
  timeoutMs?: number;
  signal?: AbortSignal | undefined;
}

/** The replication group as the server of a token rotation: each step waits until the group is available again. */
export function replicationGroupTokenServer(api: ElastiCacheApi, groupId: string, opts: GroupWaitOptions): CacheTokenServer {
  const timeoutMs = opts.timeoutMs ?? 30 * 60_000;
  const untilAvailable = async (after: string): Promise<void> => {
    const started = Date.now();
    for (;;) {
      const status = await api.groupStatus(groupId);
      if (status === undefined) throw new Error(`replication group ${groupId} does not exist: deploy the cache stack first`);
      if (status === 'available') return;
      if (Date.now() - started >= timeoutMs) {
        throw new Error(`replication group ${groupId} is still ${status} ${Math.round(timeoutMs / 60_000)} min ${after}: see its events in the ElastiCache console, then run the rotation again (it finishes with the same new token)`);
      }
      await sleep(opts.pollMs, opts.signal);
    }
  };
  const step = async (token: string, strategy: AuthTokenStrategy): Promise<void> => {
    await untilAvailable('before the token change');
    await api.modifyAuthToken(groupId, token, strategy);
    await untilAvailable(`after the token change (${strategy})`);
  };
  return {
    label: `replication group ${groupId}`,
    addToken: (token) => step(token, 'ROTATE'),
    keepOnly: (token) => step(token, 'SET'),
  };
}
