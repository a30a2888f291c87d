// The users service: accounts, password login with throttling, and the only signer of tokens.
import { TokenSigner } from '../kit/auth.js';
import { startBatchSweeper } from '../kit/batch-sweeper.js';
import { int, secretRef, type Env } from '../kit/config.js';
import { ServiceCredential } from '../kit/service-credential.js';
import type { ServiceDefinition } from '../kit/service.js';
import { NO_SHARED_STORE, SharedStore, readSharedStoreConfig, type SharedStoreConfig } from '../kit/shared-store.js';
import { LoginThrottle } from './login-throttle.js';
import { RefreshThrottle } from './refresh-throttle.js';
import { RefreshTokens } from './refresh-tokens.js';
import { RegistrationThrottle } from './registration-throttle.js';
import { migrations } from './migrations/index.js';
import { warmUpPasswordPolicy } from './password-policy.js';
import { createPasswordHasher } from './passwords.js';
import { registerUsersRoutes } from './routes.js';
import { UserStore } from './user-store.js';
import { declaration } from './declaration.js';

export interface UsersConfig {
  jwtSigningSecret: string;
  /** The service credential other services present to ask whether an account exists (unset: no such endpoint). */
  serviceCredentialSecret: string | undefined;
  tokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
  scryptLogN: number;
  loginMaxFailuresPerAccount: number;
  loginMaxFailuresPerClientAccount: number;
  loginMaxFailuresPerClient: number;
  loginWindowSeconds: number;
  registerMaxPerClient: number;
  registerWindowSeconds: number;
  refreshMaxFailuresPerClient: number;
  refreshWindowSeconds: number;
  /** How often expired refresh tokens are purged, and how long after expiry they go. */
  refreshPurgeIntervalMs: number;
  refreshPurgeGraceSeconds: number;
  trustedProxyHops: number;
  /** Where the throttles' counters live (REDIS_URL, REDIS_AUTH_SECRET, REDIS_KEY_PREFIX). */
  sharedStore: SharedStoreConfig;
}

/** scrypt's cost as log2(N): 15 is N = 32768 with r = 8, 32 MiB and tens of milliseconds per hash. */
export const readScryptLogN = (env: Env): number => int(env, 'SCRYPT_LOG_N', { default: 15, min: 14, max: 20 });

export function readUsersConfig(env: Env): UsersConfig {
  return {
    jwtSigningSecret: secretRef(env, 'JWT_SIGNING_SECRET'),
    serviceCredentialSecret: env.SERVICE_CREDENTIAL_SECRET === undefined ? undefined : secretRef(env, 'SERVICE_CREDENTIAL_SECRET'),
    // Short-lived: a password change or a deleted account ends a session within this time.
    tokenTtlSeconds: int(env, 'TOKEN_TTL_SECONDS', { default: 900, min: 60, max: 7 * 24 * 3600 }),
    refreshTokenTtlSeconds: int(env, 'REFRESH_TOKEN_TTL_SECONDS', { default: 14 * 86_400, min: 300, max: 365 * 86_400 }),
    scryptLogN: readScryptLogN(env),
    loginMaxFailuresPerAccount: int(env, 'LOGIN_MAX_FAILURES_PER_ACCOUNT', { default: 100, min: 1, max: 1_000_000 }),
    loginMaxFailuresPerClientAccount: int(env, 'LOGIN_MAX_FAILURES_PER_CLIENT_ACCOUNT', { default: 10, min: 1, max: 10_000 }),
    loginMaxFailuresPerClient: int(env, 'LOGIN_MAX_FAILURES_PER_CLIENT', { default: 50, min: 1, max: 1_000_000 }),
    loginWindowSeconds: int(env, 'LOGIN_THROTTLE_WINDOW_SECONDS', { default: 900, min: 1, max: 86_400 }),
    registerMaxPerClient: int(env, 'REGISTER_MAX_PER_CLIENT', { default: 20, min: 1, max: 1_000_000 }),
    registerWindowSeconds: int(env, 'REGISTER_THROTTLE_WINDOW_SECONDS', { default: 3600, min: 1, max: 86_400 }),
    refreshMaxFailuresPerClient: int(env, 'REFRESH_MAX_FAILURES_PER_CLIENT', { default: 30, min: 1, max: 1_000_000 }),
    refreshWindowSeconds: int(env, 'REFRESH_THROTTLE_WINDOW_SECONDS', { default: 900, min: 1, max: 86_400 }),
    refreshPurgeIntervalMs: int(env, 'REFRESH_PURGE_INTERVAL_MS', { default: 600_000, min: 10, max: 86_400_000 }),
    refreshPurgeGraceSeconds: int(env, 'REFRESH_PURGE_GRACE_SECONDS', { default: 86_400, min: 0, max: 30 * 86_400 }),
    trustedProxyHops: int(env, 'TRUSTED_PROXY_HOPS', { default: 0, min: 0, max: 10 }),
    sharedStore: readSharedStoreConfig(env),
  };
}

export const usersService: ServiceDefinition<UsersConfig> = {
  name: declaration.name,
  defaultPort: declaration.defaultPort,
  migrations,
  config: readUsersConfig,
  async register(server, ctx) {
    const cfg = ctx.config;
    // Signs with the set's current key as the secret holds it now: a promoted key is followed without a restart.
    const signer = await TokenSigner.fromSource(ctx.secret(cfg.jwtSigningSecret), cfg.tokenTtlSeconds);
    // Refuse to start with a signing key that the verifying services would not accept.
    const probe = await signer.sign({ id: '0', email: 'probe@saleday.invalid', role: 'customer' });
    await ctx.verifier.verify(probe).catch(() => {
      throw new Error('JWT_SIGNING_SECRET and JWT_VERIFY_SECRET are not one key pair: tokens signed here would be refused');
    });
    warmUpPasswordPolicy();
    const credential = cfg.serviceCredentialSecret === undefined ? undefined : new ServiceCredential(ctx.secret(cfg.serviceCredentialSecret));
    if (credential) await credential.token(); // a missing or malformed credential stops the start
    const storeConfig = cfg.sharedStore;
    const store = storeConfig.url === undefined ? undefined : await SharedStore.connect({ ...storeConfig, url: storeConfig.url }, ctx.log, (ref) => ctx.secret(ref));
    if (store) ctx.onShutdown(() => store.close());
    else ctx.log.warn(NO_SHARED_STORE, 'no shared store: throttling limits are per instance');
    ctx.readinessDetail('throttle', () => (store ? store.status() : NO_SHARED_STORE));
    const refreshTokens = new RefreshTokens(ctx.db, cfg.refreshTokenTtlSeconds);
    registerUsersRoutes(server, {
      credential,
      users: new UserStore(ctx.db.sequelize),
      hasher: createPasswordHasher(cfg.scryptLogN),
      signer,
      verifier: ctx.verifier,
      throttle: new LoginThrottle({
        maxFailuresPerAccount: cfg.loginMaxFailuresPerAccount,
        maxFailuresPerClientAccount: cfg.loginMaxFailuresPerClientAccount,
        maxFailuresPerClient: cfg.loginMaxFailuresPerClient,
        windowSeconds: cfg.loginWindowSeconds,
        trustedProxyHops: cfg.trustedProxyHops,
        store,
      }),
      registrations: new RegistrationThrottle({ maxPerClient: cfg.registerMaxPerClient, windowSeconds: cfg.registerWindowSeconds, store }),
      refreshes: new RefreshThrottle({ maxFailuresPerClient: cfg.refreshMaxFailuresPerClient, windowSeconds: cfg.refreshWindowSeconds, store }),
      refreshTokens,
      log: ctx.log,
    });
    // Expired refresh tokens would otherwise stay forever (one row per login and per refresh).
    const purge = startBatchSweeper({
      sweep: (batch) => refreshTokens.purgeExpired(batch, cfg.refreshPurgeGraceSeconds),
      intervalMs: cfg.refreshPurgeIntervalMs,
      batch: 500,
      log: ctx.log,
      done: 'expired refresh tokens purged',
      what: 'refresh token purge',
    });
    ctx.onShutdown(() => purge.stop());
  },
};
