// Login throttling without account lockout. Failed logins are counted in three places, fleet-wide
// when there is a shared store (limits.ts):
//   - per client (its address): too many failures on any accounts block that client's logins;
//   - per client and account: too many failures on one account block that client on that account
//     only: the owner, logging in from anywhere else, is not affected;
//   - per account, a much higher bound that only applies to clients that have failed on that
//     account themselves: many addresses guessing one password together are slowed down, and the
//     owner from a client with no failure on the account still gets in.
// Every attempt is counted before the password is checked (so concurrent guesses cannot slip past
// a limit) and a successful one is taken back; a success also forgets the client's failures on
// that account. At a limit, logins answer 429 with Retry-After until the window ends, even with
// the right password (a 429 says nothing about the password, nor about whether the account exists).
import type { Request } from 'restify';
import type { SharedStore } from '../kit/shared-store.js';
import { clientAddress } from './client-address.js';
import { counter, hashedKey, limited } from './limits.js';
import type { RateLimiterAbstract } from 'rate-limiter-flexible';

export interface LoginThrottleOptions {
  /** Failures allowed per client (any accounts) in the window. */
  maxFailuresPerClient: number;
  /** Failures allowed per client on one account. */
  maxFailuresPerClientAccount: number;
  /** Failures allowed on one account from all clients together, enforced on clients that failed on it. */
  maxFailuresPerAccount: number;
  windowSeconds: number;
  /** How many proxies (gateway, load balancer) append to X-Forwarded-For in front of us. */
  trustedProxyHops: number;
  /** The shared store; undefined: counts per instance. */
  store?: SharedStore | undefined;
}

const MESSAGE = 'too many failed logins: wait before trying again';

export class LoginThrottle {
  private readonly byClient: RateLimiterAbstract;
  private readonly byClientAccount: RateLimiterAbstract;
  private readonly byAccount: RateLimiterAbstract;

  constructor(private readonly opts: LoginThrottleOptions) {
    const window = opts.windowSeconds;
    this.byClient = counter(opts.store, { name: 'login:client', points: opts.maxFailuresPerClient, windowSeconds: window });
    this.byClientAccount = counter(opts.store, { name: 'login:client-account', points: opts.maxFailuresPerClientAccount, windowSeconds: window });
    this.byAccount = counter(opts.store, { name: 'login:account', points: opts.maxFailuresPerAccount, windowSeconds: window });
  }

  /** The client's address: the socket's, or the one the trusted proxies saw. */
  clientOf(req: Request): string {
    return clientAddress(req, this.opts.trustedProxyHops);
  }

  /** Counts an attempt; throws 429 with Retry-After when the client is blocked, on this account or at all. */
  async attempt(client: string, account: string): Promise<void> {
    const pair = pairKey(client, account);
    const acct = hashedKey(account);
    await this.byClient.consume(client).catch((err: unknown) => {
      throw limited(err, MESSAGE);
    });
    const mine = await this.byClientAccount.consume(pair).catch((err: unknown) => {
      throw limited(err, MESSAGE);
    });
    // The account-wide bound binds only a client that has failed on this account before.
    if (mine.consumedPoints > 1) {
      await this.byAccount.consume(acct).catch((err: unknown) => {
        throw limited(err, MESSAGE);
      });
    } else {
      await this.byAccount.penalty(acct);
    }
  }

  /** The attempt was a successful login: it does not count, and the client's failures on the account are forgotten. */
  async succeeded(client: string, account: string): Promise<void> {
    await Promise.all([this.byClient.reward(client), this.byClientAccount.delete(pairKey(client, account)), this.byAccount.reward(hashedKey(account))]);
  }
}

const pairKey = (client: string, account: string): string => `${client}|${hashedKey(account)}`;
