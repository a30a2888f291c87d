// Calls between services carry a shared service credential, never a customer's token. The secret
// (SERVICE_CREDENTIAL_SECRET, JSON {"token": "..."}) is read through the SecretSource; the caller
// sends it in the X-Service-Token header (redacted from logs by services/kit/log.ts) and the callee
// compares it in constant time.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request } from 'restify';
import { unauthorized } from './errors.js';
import { describeRef, type SecretSource } from './secrets.js';

export const SERVICE_TOKEN_HEADER = 'x-service-token';

/** Re-reads the secret at most this often when a presented token does not match (rotation). */
const REFRESH_ON_MISMATCH_MS = 5_000;

export class ServiceCredential {
  private lastRefresh = 0;

  constructor(private readonly source: SecretSource) {}

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
    if (constantTimeEqual(presented, await this.token())) return true;
    if (Date.now() - this.lastRefresh < REFRESH_ON_MISMATCH_MS) return false;
    this.lastRefresh = Date.now();
    return constantTimeEqual(presented, tokenOf(await this.source.refresh(), this.source));
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
export function constantTimeEqual(a: string, b: string): boolean {
  const da = createHash('sha256').update(a).digest();
  const db = createHash('sha256').update(b).digest();
  return timingSafeEqual(da, db);
}
