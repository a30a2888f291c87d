// Calls between services carry a shared service credential, never a customer's token. The secret
// (SERVICE_CREDENTIAL_SECRET) is a small set, read through the SecretSource:
//   {"token": "<current>", "next"?: "<staged>", "previous"?: "<before>", "previousExpiresAt"?: "<ISO>"}
// The caller sends `token` in the X-Service-Token header (redacted from logs by services/kit/log.ts);
// the callee accepts `token`, `next` and, until `previousExpiresAt`, `previous`, each compared in
// constant time. A rotation stages the new value as `next` first (callees accept it before any
// caller sends it), then promotes it (callers switch; the old one stays `previous` for a grace);
// the old `{token}` shape is a set of one. A callee re-reads the secret now and then when a token
// does not match; a caller that gets 401 re-reads it once and repeats the call once
// (ServiceClient's onUnauthorized).
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Request } from 'restify';
import { unauthorized } from './errors.js';
import { describeRef, type SecretSource } from './secrets.js';

export const SERVICE_TOKEN_HEADER = 'x-service-token';

/** By default the secret is re-read at most this often when a presented token does not match (rotation). */
const REFRESH_ON_MISMATCH_MS = 1_000;

/** The JSON shape of the service credential secret. */
export interface CredentialSet {
  token: string;
  next?: string;
  previous?: string;
  previousExpiresAt?: string;
}

export class ServiceCredential {
  private lastRefresh = 0;
  private lastCallerRefresh = 0;
  private cached: { value: Record<string, unknown>; always: Buffer[]; withPrevious: Buffer[]; previousUntil: number } | undefined;

  constructor(
    private readonly source: SecretSource,
    private readonly refreshOnMismatchMs = REFRESH_ON_MISMATCH_MS,
  ) {}

  /** The token to send (for the calling side): the current one. */
  async token(): Promise<string> {
    return credentialSet(await this.source.get(), this.source).token;
  }

  /** Headers carrying the credential, for the service client. */
  async headers(): Promise<Record<string, string>> {
    return { [SERVICE_TOKEN_HEADER]: await this.token() };
  }

  /**
   * For the calling side after a 401 to a call that sent `sentHeaders`: true when the token to send
   * is now another one (re-read here, or already by a concurrent call), so the call is worth
   * repeating once. Concurrent refusals share one re-read, and re-reads are at most one per interval.
   */
  async refreshAfterRefusal(sentHeaders: Record<string, string>): Promise<boolean> {
    const sent = sentHeaders[SERVICE_TOKEN_HEADER];
    if ((await this.token()) !== sent) return true;
    if (!this.callerRefresh && Date.now() - this.lastCallerRefresh >= this.refreshOnMismatchMs) {
      this.lastCallerRefresh = Date.now();
      this.callerRefresh = this.source.refresh().then(
        () => undefined,
        () => undefined,
      ).finally(() => {
        this.callerRefresh = undefined;
      });
    }
    await this.callerRefresh;
    return (await this.token()) !== sent;
  }

  private callerRefresh: Promise<void> | undefined;

  /** true when `presented` is in the accepted set; a mismatch re-reads a rotated secret now and then. */
  async matches(presented: string): Promise<boolean> {
    const given = digest(presented);
    if (anyEqual(given, await this.accepted())) return true;
    if (Date.now() - this.lastRefresh < this.refreshOnMismatchMs) return false;
    this.lastRefresh = Date.now();
    await this.source.refresh();
    return anyEqual(given, await this.accepted());
  }

  /** The accepted tokens' digests, computed once per secret value (they are checked on every call). */
  private async accepted(): Promise<Buffer[]> {
    const value = await this.source.get();
    if (this.cached?.value !== value) {
      const set = credentialSet(value, this.source);
      const always = [set.token, set.next].filter((x): x is string => typeof x === 'string').map(digest);
      const previous = set.previous === undefined ? undefined : digest(set.previous);
      const previousUntil = set.previousExpiresAt === undefined ? 0 : Date.parse(set.previousExpiresAt);
      this.cached = { value, always, withPrevious: previous ? [...always, previous] : always, previousUntil };
    }
    // The previous token's grace ends by itself, without a re-read.
    return this.cached.previousUntil > Date.now() ? this.cached.withPrevious : this.cached.always;
  }

  /** Throws 401 unless the request carries the service credential. */
  async require(req: Request): Promise<void> {
    const presented = req.headers[SERVICE_TOKEN_HEADER];
    if (typeof presented !== 'string' || presented === '' || !(await this.matches(presented))) {
      throw unauthorized('a valid service credential is required');
    }
  }
}

/** Every digest is compared (no early exit), so the time does not say which one matched. */
function anyEqual(given: Buffer, accepted: Buffer[]): boolean {
  let hit = false;
  for (const d of accepted) hit = timingSafeEqual(given, d) || hit;
  return hit;
}

function credentialSet(value: object, source: SecretSource): CredentialSet {
  const secret = value as Record<string, unknown>;
  const token = secret.token;
  if (typeof token !== 'string' || token.length < 16) {
    throw new Error(`secret ${describeRef(source.ref)} must be {"token": "<at least 16 characters>"} (with "next" and "previous" during a rotation)`);
  }
  const set: CredentialSet = { token };
  for (const k of ['next', 'previous'] as const) {
    const v = secret[k];
    if (typeof v === 'string' && v.length >= 16) set[k] = v;
  }
  if (typeof secret.previousExpiresAt === 'string') set.previousExpiresAt = secret.previousExpiresAt;
  return set;
}

// --- the stages of a rotation (the playbooks run them) -------------------------------------------

/** A new credential value: 32 random bytes, base64url. */
export function newCredentialToken(): string {
  return randomBytes(32).toString('base64url');
}

function readSet(value: object): CredentialSet {
  const secret = value as Record<string, unknown>;
  const token = secret.token;
  if (typeof token !== 'string') throw new Error('the service credential secret has no token');
  const set: CredentialSet = { token };
  if (typeof secret.next === 'string') set.next = secret.next;
  if (typeof secret.previous === 'string') set.previous = secret.previous;
  if (typeof secret.previousExpiresAt === 'string') set.previousExpiresAt = secret.previousExpiresAt;
  return set;
}

/** Stage 1: a new value as `next` (kept when one is staged already). */
export function stageNextCredential(secret: object): { secret: CredentialSet; staged: boolean } {
  const set = readSet(secret);
  if (set.next !== undefined) return { secret: set, staged: false };
  return { secret: { ...set, next: newCredentialToken() }, staged: true };
}

/** Stage 2: `next` becomes the token; the old token is `previous` until `previousUntil`. */
export function promoteNextCredential(secret: object, previousUntil: Date): { secret: CredentialSet; promoted: boolean } {
  const set = readSet(secret);
  if (set.next === undefined) return { secret: set, promoted: false };
  return { secret: { token: set.next, previous: set.token, previousExpiresAt: previousUntil.toISOString() }, promoted: true };
}

/** Drops a `previous` value whose grace has passed. */
export function dropExpiredCredential(secret: object, now: Date): { secret: CredentialSet; dropped: number } {
  const set = readSet(secret);
  if (set.previous === undefined) return { secret: set, dropped: 0 };
  if (set.previousExpiresAt !== undefined && Date.parse(set.previousExpiresAt) > now.getTime()) return { secret: set, dropped: 0 };
  const { previous: _p, previousExpiresAt: _e, ...rest } = set;
  return { secret: rest, dropped: 1 };
}

/** Equal-length digests make the comparison independent of where, or whether, the inputs differ. */
function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

export function constantTimeEqual(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}
