// Calls between services carry a shared service credential, never a customer's token. The secret
// (SERVICE_CREDENTIAL_SECRET, JSON {"token": "..."}) is read through the SecretSource; the caller
// sends it in the X-Service-Token header (redacted from logs by services/kit/log.ts) and the callee
// compares it in constant time.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request } from 'restify';
import { unauthorized } from './errors.js';
import { describeRef, type SecretSource } from './secrets.js';

export const SERVICE_TOKEN_HEADER = 'x-service-token';

/** By default the secret is re-read at most this often when a presented token does not match (rotation). */
const REFRESH_ON_MISMATCH_MS = 1_000;

export class ServiceCredential {
  private lastRefresh = 0;
  private cached: { token: string; digest: Buffer } | undefined;

  constructor(
    private readonly source: SecretSource,
    private readonly refreshOnMismatchMs = REFRESH_ON_MISMATCH_MS,
  ) {}

  /** The token to send (for the calling side). */
  async token(): Promise<string> {
    return tokenOf(await this.source.get(), this.source);
  }

  /** Headers carrying the credential, for the service client. */
  async headers(): Promise<Record<string, string>> {
    return { [SERVICE_TOKEN_HEADER]: await this.token() };
  }

  /** true when `presented` equals the current token; a mismatch re-reads a rotated secret now and then. */
  async matches(presented: string): Promise<boolean> {
    const given = digest(presented);
    if (timingSafeEqual(given, await this.expected())) return true;
    if (Date.now() - this.lastRefresh < this.refreshOnMismatchMs) return false;
    this.lastRefresh = Date.now();
    await this.source.refresh();
    return timingSafeEqual(given, await this.expected());
  }

  /** The current token's digest, computed once per token value (it is checked on every call). */
  private async expected(): Promise<Buffer> {
    const token = await this.token();
    if (this.cached?.token !== token) this.cached = { token, digest: digest(token) };
    return this.cached.digest;
  }

  /** Throws 401 unless the request carries the service credential. */
  async require(req: Request): Promise<void> {
    const presented = req.headers[SERVICE_TOKEN_HEADER];
    if (typeof presented !== 'string' || presented === '' || !(await this.matches(presented))) {
      throw unauthorized('a valid service credential is required');
    }
  }
}

function tokenOf(secret: Record<string, unknown>, source: SecretSource): string {
  const token = secret.token;
  if (typeof token !== 'string' || token.length < 16) {
    throw new Error(`secret ${describeRef(source.ref)} must be {"token": "<at least 16 characters>"}`);
  }
  return token;
}

/** Equal-length digests make the comparison independent of where, or whether, the inputs differ. */
function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

export function constantTimeEqual(a: string, b: string): boolean {
  return timingSafeEqual(digest(a), digest(b));
}
