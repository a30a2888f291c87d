// A token outlives nothing: before orders acts on a token it asks users (with the service
// credential, GET /api/users/accounts/:id) whether the account it was issued to still exists, so
// a deleted or unknown user's token takes no stock. Answers are kept for a few seconds per
// instance, and concurrent checks for one account share one call, so a sale's checkout peak does
// not turn into as many calls to users. When users cannot answer, the token's signature is
// trusted (and a warning logged): a users outage must not stop checkouts of existing customers.
import { ApiError } from '../kit/errors.js';
import type { Logger } from '../kit/log.js';
import type { ServiceClient } from '../kit/service-client.js';

/** Past this many remembered accounts the memory starts over (a bound, not an eviction policy). */
const MAX_REMEMBERED = 100_000;

export const accountGone = (): ApiError =>
  new ApiError(401, 'ACCOUNT_GONE', 'the account this token was issued to no longer exists; log in again', undefined, { 'WWW-Authenticate': 'Bearer' });

export class AccountCheck {
  private readonly known = new Map<string, { exists: boolean; until: number }>();
  private readonly pending = new Map<string, Promise<boolean | undefined>>();

  constructor(
    private readonly users: ServiceClient,
    private readonly cacheMs: number,
    private readonly log: Logger,
  ) {}

  /** Throws 401 ACCOUNT_GONE when users says the account does not exist. */
  async require(accountId: string): Promise<void> {
    if ((await this.exists(accountId)) === false) throw accountGone();
  }

  /** true / false as users answered (now or within the cache time), undefined when it could not. */
  private async exists(id: string): Promise<boolean | undefined> {
    const hit = this.known.get(id);
    if (hit && hit.until > Date.now()) return hit.exists;
    let call = this.pending.get(id);
    if (!call) {
      call = this.ask(id).finally(() => this.pending.delete(id));
      this.pending.set(id, call);
    }
    return call;
  }

  private async ask(id: string): Promise<boolean | undefined> {
    let status: number;
    try {
      status = (await this.users.get(`/api/users/accounts/${encodeURIComponent(id)}`)).status;
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'users did not answer an account check; the token is trusted');
      return undefined;
    }
    if (status !== 200 && status !== 404) {
      this.log.warn({ status }, 'users answered an account check with an unexpected status; the token is trusted');
      return undefined;
    }
    if (this.known.size >= MAX_REMEMBERED) this.known.clear();
    this.known.set(id, { exists: status === 200, until: Date.now() + this.cacheMs });
    return status === 200;
  }
}
