// What every service shares at start and stop: configuration, logger, secrets, database,
// migrations, token verification, the server, and a graceful shutdown that drains in-flight
// requests before closing the pool.
import type { IncomingMessage, ServerResponse, Server as HttpServer } from 'node:http';
import type { Server } from 'restify';
import { ConfigError, bool, int, list, oneOf, secretRef, str, type Env } from './config.js';
import { connectDatabase, type Database, type TlsMode } from './db.js';
import { DEFAULT_DB_POOL_MAX } from './declaration.js';
import { DEFAULT_LOG_BUFFER_MS, createBufferedLogger, type Logger } from './log.js';
import { migrateUp, type Migration } from './migrate.js';
import { DEFAULT_SECRETS_REFRESH_SECONDS, SecretError, SecretSource } from './secrets.js';
import { InflightResponses } from './inflight.js';
import { createApiServer } from './server.js';
import { TokenVerifier } from './auth.js';

export interface KitConfig {
  port: number;
  host: string;
  logLevel: string;
  accessLog: boolean;
  logBufferMs: number;
  dbSecret: string;
  dbPoolMax: number;
  dbTls: TlsMode;
  dbReadHosts: string[];
  migrateOnStart: boolean;
  jwtVerifySecret: string;
  /** How often secrets are re-read in the background (a rotation reaches the service within this). */
  secretsRefreshSeconds: number;
  maxBodyBytes: number;
  shutdownTimeoutMs: number;
}

export function readKitConfig(env: Env, defaultPort: number): KitConfig {
  return {
    port: int(env, 'PORT', { default: defaultPort, min: 0, max: 65535 }),
    host: str(env, 'HOST', { default: '127.0.0.1' }),
    logLevel: oneOf(env, 'LOG_LEVEL', ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'], 'info'),
    accessLog: bool(env, 'ACCESS_LOG', true),
    logBufferMs: int(env, 'LOG_BUFFER_MS', { default: DEFAULT_LOG_BUFFER_MS, min: 0, max: 10_000 }),
    dbSecret: secretRef(env, 'DB_SECRET'),
    dbPoolMax: int(env, 'DB_POOL_MAX', { default: DEFAULT_DB_POOL_MAX, min: 1, max: 1000 }),
    dbTls: oneOf(env, 'DB_TLS', ['auto', 'on', 'off'], 'auto'),
    dbReadHosts: list(env, 'DB_READ_HOSTS'),
    migrateOnStart: bool(env, 'MIGRATE_ON_START', false),
    jwtVerifySecret: secretRef(env, 'JWT_VERIFY_SECRET'),
    secretsRefreshSeconds: int(env, 'SECRETS_REFRESH_SECONDS', { default: DEFAULT_SECRETS_REFRESH_SECONDS, min: 1, max: 86_400 }),
    maxBodyBytes: int(env, 'MAX_BODY_BYTES', { default: 256 * 1024, min: 1024, max: 16 * 1024 * 1024 }),
    shutdownTimeoutMs: int(env, 'SHUTDOWN_TIMEOUT_MS', { default: 15_000, min: 0, max: 600_000 }),
  };
}

export interface ServiceContext<C> {
  name: string;
  env: Env;
  config: KitConfig & C;
  log: Logger;
  db: Database;
  verifier: TokenVerifier;
  /** Loads another secret by reference (cached per reference). */
  secret(ref: string): SecretSource;
  /** Registers work to stop at shutdown, after requests drained and before the pool closes. */
  onShutdown(fn: () => Promise<void> | void): void;
  /** Adds `key` to /readyz's answer (a dependency that degrades without making the service unready). */
  readinessDetail(key: string, detail: () => unknown): void;
}

export interface ServiceDefinition<C = object> {
  name: string;
  defaultPort: number;
  migrations: readonly Migration[];
  /** Service-specific configuration, validated at start like the kit's. */
  config?(env: Env): C;
  register(server: Server, ctx: ServiceContext<C>): Promise<void> | void;
}

export interface RunningService<C = object> {
  server: Server;
  url: string;
  port: number;
  ctx: ServiceContext<C>;
  /** Drains and stops; resolves when the pool is closed. Idempotent. */
  close(): Promise<void>;
}

export async function startService<C>(def: ServiceDefinition<C>, env: Env = process.env): Promise<RunningService<C>> {
  const config = { ...readKitConfig(env, def.defaultPort), ...(def.config?.(env) ?? ({} as C)) };
  const logger = createBufferedLogger(def.name, { level: config.logLevel, bufferMs: config.logBufferMs });
  const log = logger.log;
  const secrets = new Map<string, SecretSource>();
  const secret = (ref: string): SecretSource => {
    let s = secrets.get(ref);
    if (!s) secrets.set(ref, (s = new SecretSource(ref, { maxAgeMs: config.secretsRefreshSeconds * 1000 })));
    return s;
  };
  const db = await connectDatabase({ secret: secret(config.dbSecret), poolMax: config.dbPoolMax, tls: config.dbTls, readHosts: config.dbReadHosts, log });
  const verifier = await TokenVerifier.fromSource(secret(config.jwtVerifySecret));
  if (config.migrateOnStart) {
    const applied = await migrateUp(db.sequelize, def.migrations);
    if (applied.length) log.info({ applied }, 'migrations applied');
  }

  const shutdownHooks: Array<() => Promise<void> | void> = [];
  let draining = false;
  const readinessDetails = new Map<string, () => unknown>();
  const ctx: ServiceContext<C> = {
    name: def.name, env, config, log, db, verifier, secret,
    onShutdown: (fn) => shutdownHooks.push(fn),
    readinessDetail: (key, detail) => readinessDetails.set(key, detail),
  };
  const server = createApiServer({
    name: def.name,
    log,
    maxBodyBytes: config.maxBodyBytes,
    accessLog: config.accessLog,
    accessLogger: logger.access,
    readiness: () => db.ping(),
    draining: () => draining,
    readinessDetail: () => Object.fromEntries([...readinessDetails].map(([key, detail]) => [key, detail()])),
  });
  await def.register(server, ctx);

  const http = server.server as HttpServer;
  // Longer than an ALB's 60 s idle timeout, so the balancer closes idle connections, not us.
  http.keepAliveTimeout = 65_000;
  http.headersTimeout = 66_000;
  const inflight = new InflightResponses();
  let drained: (() => void) | undefined;
  // One listener function for every response (no closure per request on the hot path).
  const onClose = function (this: ServerResponse): void {
    inflight.delete(this);
    if (draining) {
      setImmediate(() => http.closeIdleConnections());
      if (inflight.size === 0) drained?.();
    }
  };
  http.on('request', (_req: IncomingMessage, res: ServerResponse) => {
    inflight.add(res);
    if (draining) res.setHeader('Connection', 'close');
    res.on('close', onClose);
  });

  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    server.listen(config.port, config.host, () => {
      http.off('error', reject);
      resolve();
    });
  });
  const address = http.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
  log.info({ url }, `${def.name} listening`);

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> =>
    (closing ??= (async () => {
      draining = true;
      log.info({ inflight: inflight.size }, 'draining');
      for (const res of inflight) if (!res.headersSent) res.setHeader('Connection', 'close');
      const stopped = new Promise<void>((resolve) => http.close(() => resolve()));
      http.closeIdleConnections();
      if (inflight.size > 0) {
        await new Promise<void>((resolve) => {
          drained = resolve;
          setTimeout(resolve, config.shutdownTimeoutMs).unref();
        });
      }
      if (inflight.size > 0) log.warn({ inflight: inflight.size }, 'shutdown timeout reached with requests in flight');
      http.closeAllConnections();
      await stopped;
      for (const hook of shutdownHooks) await hook();
      await db.close();
      log.info('stopped');
      logger.close();
    })());

  return { server, url, port, ctx, close };
}

/**
 * The body of each service's main.ts: start, stop cleanly on SIGTERM/SIGINT (exit 0), and turn a
 * configuration or secret problem into one line on stderr and exit 1.
 */
export function runServiceMain<C>(def: ServiceDefinition<C>): void {
  startService(def).then(
    (running) => {
      const stop = (signal: string) => {
        running.ctx.log.info({ signal }, 'stopping');
        running.close().then(
          () => process.exit(0),
          (err: unknown) => {
            running.ctx.log.error({ err: (err as Error).message }, 'error while stopping');
            process.exit(1);
          },
        );
      };
      process.once('SIGTERM', () => stop('SIGTERM'));
      process.once('SIGINT', () => stop('SIGINT'));
    },
    (err: unknown) => {
      process.stderr.write(`saleday-${def.name}: ${describeStartError(err)}\n`);
      process.exit(1);
    },
  );
}

export function describeStartError(err: unknown): string {
  if (err instanceof ConfigError || err instanceof SecretError) return err.message;
  const e = err as { code?: string; message?: string; name?: string };
  if (e?.code === 'EADDRINUSE') return `cannot listen: the port is already in use (set PORT to a free port)`;
  if (e?.name?.startsWith('Sequelize')) return `database error at start: ${e.name}; check DB_SECRET and that the database is reachable`;
  return e?.message ?? String(err);
}

/**
 * The body of each service's migrate.ts: `up` (default), `down [steps]` or `status`, against the
 * database named by DB_SECRET. Prints one line per migration; exit 0 on success, 1 on failure.
 */
export async function runMigrateMain(def: Pick<ServiceDefinition, 'name' | 'migrations'>, argv = process.argv.slice(2), env: Env = process.env): Promise<void> {
  const [command = 'up', arg] = argv;
  const out = (line: string) => process.stdout.write(`${line}\n`);
  try {
    if (!['up', 'down', 'status'].includes(command)) {
      throw new ConfigError('command', 'up, down [steps] or status', command);
    }
    const secret = new SecretSource(secretRef(env, 'DB_SECRET'));
    const db = await connectDatabase({ secret, poolMax: 2, tls: oneOf<TlsMode>(env, 'DB_TLS', ['auto', 'on', 'off'], 'auto') });
    try {
      const { migrateDown, migrationStatus } = await import('./migrate.js');
      if (command === 'status') {
        const s = await migrationStatus(db.sequelize, def.migrations);
        for (const name of s.executed) out(`  up       ${name}`);
        for (const name of s.pending) out(`  pending  ${name}`);
      } else if (command === 'down') {
        const steps = arg === undefined ? 1 : Number(arg);
        if (!Number.isInteger(steps) || steps < 1) throw new ConfigError('steps', 'a positive integer', arg);
        for (const name of await migrateDown(db.sequelize, def.migrations, steps)) out(`reverted ${name}`);
      } else {
        const applied = await migrateUp(db.sequelize, def.migrations);
        for (const name of applied) out(`applied  ${name}`);
        out(applied.length ? `${def.name}: ${applied.length} migration(s) applied` : `${def.name}: schema is up to date`);
      }
    } finally {
      await db.close();
    }
  } catch (err) {
    process.stderr.write(`saleday-${def.name} migrate: ${describeStartError(err)}\n`);
    process.exitCode = 1;
  }
}
