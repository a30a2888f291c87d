// Login throttling (rate-limiter-flexible): failed logins are counted per client address and per
// account (the email key, whether or not such an account exists, so a 429 reveals nothing). Once a
// key reached its limit, logins answer 429 with Retry-After until its window ends, even with the
// right password. Every attempt is counted before the password is checked (so concurrent guesses
// cannot slip past the limit) and a successful one is taken back. Counts live in this process: a
// fleet of N instances lets an attacker try at most N times the limit.
import { RateLimiterMemory, type RateLimiterRes } from 'rate-limiter-flexible';
import type { Request } from 'restify';
import { tooManyRequests } from '../kit/errors.js';

export interface LoginThrottleOptions {
  maxFailuresPerAccount: number;
  maxFailuresPerClient: number;
  windowSeconds: number;
  /** How many proxies (gateway, load balancer) append to X-Forwarded-For in front of us. */
  trustedProxyHops: number;
}

export class LoginThrottle {
  private readonly byAccount: RateLimiterMemory;
  private readonly byClient: RateLimiterMemory;

  constructor(private readonly opts: LoginThrottleOptions) {
    this.byAccount = new RateLimiterMemory({ keyPrefix: 'account', points: opts.maxFailuresPerAccount, duration: opts.windowSeconds });
    this.byClient = new RateLimiterMemory({ keyPrefix: 'client', points: opts.maxFailuresPerClient, duration: opts.windowSeconds });
  }

  /** The client's address: the socket's, or the one the trusted proxies saw. */
  clientOf(req: Request): string {
    const socketAddress = req.socket.remoteAddress ?? 'unknown';
    if (this.opts.trustedProxyHops === 0) return socketAddress;
    const header = req.headers['x-forwarded-for'];
    const chain = (typeof header === 'string' ? header : '').split(',').map((s) => s.trim()).filter(Boolean);
    // Each trusted proxy appended the address it received from: the last `hops` entries are theirs.
    return chain[chain.length - this.opts.trustedProxyHops] ?? chain[0] ?? socketAddress;
  }

  /** Counts an attempt; throws 429 with Retry-After (counting nothing) when the client or the account is blocked. */
  async attempt(client: string, account: string): Promise<void> {
    const [c, a] = await Promise.all([this.byClient.get(client), this.byAccount.get(account)]);
    const retryMs = Math.max(blockedFor(c, this.opts.maxFailuresPerClient), blockedFor(a, this.opts.maxFailuresPerAccount));
    if (retryMs > 0) throw tooManyRequests(Math.max(1, Math.ceil(retryMs / 1000)), 'too many failed logins: wait before trying again');
    await Promise.all([this.byClient.penalty(client), this.byAccount.penalty(account)]);
  }

  /** The attempt was a successful login: it does not count, and the account's failures are forgotten. */
  async succeeded(client: string, account: string): Promise<void> {
    await Promise.all([this.byClient.reward(client), this.byAccount.delete(account)]);
  }
}

function blockedFor(res: RateLimiterRes | null, limit: number): number {
  return res !== null && res.consumedPoints >= limit ? res.msBeforeNext : 0;
}
