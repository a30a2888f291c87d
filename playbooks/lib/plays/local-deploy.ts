// The local target: deploy, status and destroy on this machine. The same playbook as for AWS, with
// local modules where AWS has CloudFormation:
//   render + validate templates → build → database server → secrets file → per service: database
//   and user, migrations → seeds → admin account → supervisor → fleets and gateway → smoke check.
// Everything lives under .saleday/local/ (SALEDAY_LOCAL_DIR moves it, for tests).
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import mysql from 'mysql2/promise';
import { generateSigningKeys } from '../../../services/kit/auth.js';
import type { Environment } from '../../../environment/index.js';
import { RefusedError } from '../errors.js';
import { applyFleet, ensureSupervisor, fleetState, stopFleet } from '../../../localcloud/control-client.js';
import { addressFromUrl, freePort, privateServerPid, probeServer, readPrivateServer, serverPrograms, startPrivateServer, stopPrivateServer, type AdminAddress } from '../local/database-server.js';
import type { FleetSpec, ServiceSpec } from '../../../localcloud/fleet-spec.js';
import { formatFleetStatus } from '../../../localcloud/fleet-status.js';
import { localDir as resolveLocalDir } from '../../../localcloud/local-paths.js';
import { runServiceCommand } from '../local/service-command.js';
import { ensureServiceDatabase, secretKeyFor } from '../local/service-databases.js';
import { localServiceSpec } from '../local/service-spec.js';
import { SecretsFile, generatePassword, secretRef } from '../local/secrets-file.js';
import { staleBuild, buildServices } from '../local/service-build.js';
import { readActivity, readState } from '../../../localcloud/state-file.js';
import { changed, ok, skipped } from '../runner.js';
import type { TargetRun } from '../targets.js';
import { templateTasks } from './template-tasks.js';

/** The admin account of the local shop; its password is generated into the secrets file. */
export const ADMIN_EMAIL = 'admin@shop.example';
/** The metric window when the inventory names none (AWS evaluates 1-minute datapoints). */
const DEFAULT_EVALUATION_SECONDS = 10;

export function localFolder(root: string): string {
  return resolveLocalDir(process.env.SALEDAY_LOCAL_DIR ?? join(root, '.saleday/local'));
}

interface DatabaseServer {
  admin: AdminAddress;
  private: boolean;
}

export async function deploy(run: TargetRun): Promise<void> {
  const { play, root } = run;
  const inv = run.environment;
  const local = inv.local;
  if (!local) throw new RefusedError(`${run.inventoryFile}: target local needs a local section (gatewayPort, workersPerCpu)`);
  const dir = localFolder(root);
  const services = Object.keys(inv.services);
  const names = (service: string) => ({ project: inv.project, environment: inv.environment, service });

  await templateTasks(play, run.stacks);

  await play.task({
    name: 'build services',
    tags: ['build'],
    run: async (ctx) => {
      const stale = await staleBuild(root);
      if (!stale) return ok('dist/ is newer than every source file');
      if (ctx.check) return changed(`would build (${stale} changed since the last build)`);
      ctx.progress(`${stale} changed since the last build: npm run build`);
      await buildServices(root, ctx.signal);
      return changed('built dist/ (tsc -p tsconfig.build.json)');
    },
  });

  let server: DatabaseServer | undefined;
  let secrets: SecretsFile | undefined;
  await play.task({
    name: 'database server',
    tags: ['database'],
    run: async (ctx) => {
      secrets = await SecretsFile.load(dir);
      const found = await databaseServer(dir, local.mysqlUrl, secrets, ctx.check, (l) => ctx.progress(l));
      server = found.server;
      return found.changed ? changed(found.message) : ok(found.message);
    },
  });

  await play.task({
    name: 'secrets file',
    tags: ['secrets'],
    run: async (ctx) => {
      const s = secrets!;
      const created: string[] = [];
      const jwt = await s.ensure('jwt', async () => ({ ...(await generateSigningKeys()) }));
      if (jwt.created) created.push('jwt');
      if (s.set('jwt-public', { publicKey: (jwt.value as { publicKey: string }).publicKey }) && !jwt.created) created.push('jwt-public');
      if ((await s.ensure('service-credential', () => ({ token: generatePassword() }))).created) created.push('service-credential');
      if ((await s.ensure('admin', () => ({ email: ADMIN_EMAIL, password: generatePassword() }))).created) created.push('admin');
      const fixMode = s.wasOpen;
      if (ctx.check) return created.length || fixMode ? changed(`would write ${s.path}${created.length ? ` (new: ${created.join(', ')})` : ' (mode 0600)'}`) : ok(`${s.path} holds every secret`);
      await s.save();
      if (fixMode) ctx.progress(`${s.path} was readable by others: now 0600`);
      return created.length || fixMode ? changed(`${s.path}${created.length ? ` (generated: ${created.join(', ')})` : ''}, mode 0600`) : ok(`${s.path} holds every secret`);
    },
  });

  for (const service of services) {
    await play.task({
      name: `database ${service}`,
      service,
      tags: ['database', service],
      run: async (ctx) => {
        if (!server) return skipped('no database server yet (--check)');
        if (ctx.check) return ok(`would make sure ${service}'s database, user and grants exist`);
        const admin = await adminConnection(server.admin);
        try {
          const r = await ensureServiceDatabase(admin, server.admin, secrets!, names(service));
          await secrets!.save();
          const what = `${r.secret.dbname} as ${r.secret.username}`;
          return r.outcome === 'unchanged' ? ok(what) : changed(`${what}: ${r.what.join(', ')}`);
        } finally {
          await admin.end().catch(() => undefined);
        }
      },
    });
  }

  const dbEnv = (service: string): Record<string, string> => ({ DB_SECRET: secretRef(dir, secretKeyFor(service)), DB_TLS: 'off', LOG_LEVEL: 'warn' });
  for (const service of services) {
    await play.task({
      name: `migrations ${service}`,
      service,
      tags: ['migrations', service],
      run: async (ctx) => {
        if (ctx.check || !server) return skipped('--check runs no migrations');
        const out = await runServiceCommand(root, service, 'migrate', { args: ['up'], env: dbEnv(service), onLine: (l) => ctx.detail(l), signal: ctx.signal });
        const applied = out.lines.filter((l) => l.startsWith('applied'));
        return applied.length ? changed(`${applied.length} applied`) : ok('schema is up to date');
      },
    });
  }

  if (services.includes('catalog')) {
    await play.task({
      name: 'seed catalog',
      service: 'catalog',
      tags: ['seed', 'catalog'],
      run: async (ctx) => {
        if (ctx.check || !server) return skipped('--check seeds nothing');
        const out = await runServiceCommand(root, 'catalog', 'seed', { env: dbEnv('catalog'), onLine: (l) => ctx.detail(l), signal: ctx.signal });
        return seedOutcome(out.lines, /(\d+) product\(s\) inserted/);
      },
    });
  }
  if (services.includes('inventory')) {
    await play.task({
      name: 'seed stock',
      service: 'inventory',
      tags: ['seed', 'inventory'],
      run: async (ctx) => {
        if (ctx.check || !server) return skipped('--check seeds nothing');
        const out = await runServiceCommand(root, 'inventory', 'seed', { env: dbEnv('inventory'), onLine: (l) => ctx.detail(l), signal: ctx.signal });
        return seedOutcome(out.lines, /(\d+) sku\(s\) stocked/);
      },
    });
  }
  if (services.includes('users')) {
    await play.task({
      name: 'admin account',
      service: 'users',
      tags: ['seed', 'users'],
      run: async (ctx) => {
        if (ctx.check || !server) return skipped('--check creates no account');
        const admin = secrets!.get<{ email: string; password: string }>('admin')!;
        const out = await runServiceCommand(root, 'users', 'create-admin', {
          args: ['--email', admin.email, '--name', 'Shop admin'],
          env: { ...dbEnv('users'), ADMIN_PASSWORD: admin.password },
          signal: ctx.signal,
        });
        const line = out.lines.at(-1) ?? '';
        const where = `${admin.email} (password in ${secrets!.path} under "admin")`;
        return /unchanged/.test(line) ? ok(where) : changed(`${where}: ${line.replace(/^admin \S+ /, '')}`);
      },
    });
  }

  await play.task({
    name: 'fleet supervisor',
    tags: ['fleet'],
    run: async (ctx) => {
      if (ctx.check) return (await fleetState(dir)) ? ok('running') : changed('would start the supervisor');
      const s = await ensureSupervisor(dir);
      return s.started ? changed(`started (pid ${s.pid})`) : ok(`running (pid ${s.pid})`);
    },
  });

  let gatewayUrl = '';
  await play.task({
    name: 'fleets and gateway',
    tags: ['fleet', ...services],
    run: async (ctx) => {
      const spec = await fleetSpec(run, inv, dir);
      if (ctx.check) {
        const state = await fleetState(dir);
        const current = Object.keys(state?.services ?? {});
        return changed(`would apply ${Object.keys(spec.services).length} groups behind ${spec.gateway.port ? `port ${spec.gateway.port}` : 'a free port'}${current.length ? ` (running: ${current.join(', ')})` : ''}`);
      }
      const result = await applyFleet(spec, { dir, onProgress: (svc, message) => ctx.progress(`${svc}: ${message}`) });
      gatewayUrl = result.gatewayUrl;
      const touched = Object.entries(result.services).filter(([, o]) => o !== 'unchanged');
      const summary = touched.length ? touched.map(([s, o]) => `${s} ${o}`).join(', ') : 'every group unchanged';
      return result.changed ? changed(`${summary}; gateway ${result.gateway} at ${gatewayUrl}`, { gatewayUrl }) : ok(`${summary}; gateway at ${gatewayUrl}`, { gatewayUrl });
    },
  });

  await play.task({
    name: 'smoke check',
    tags: ['smoke'],
    run: async (ctx) => {
      if (ctx.check || !gatewayUrl) return skipped(ctx.check ? '--check: nothing was deployed' : 'the fleet did not run');
      for (const path of smokePaths(services)) {
        const res = await fetch(new URL(path, gatewayUrl), { signal: AbortSignal.any([ctx.signal, AbortSignal.timeout(10_000)]) });
        await res.arrayBuffer();
        if (res.status !== 200) throw new Error(`GET ${path} answered ${res.status} through ${gatewayUrl}`);
      }
      ctx.print(`\nThe shop runs at ${gatewayUrl}  (admin ${ADMIN_EMAIL}: password in ${join(dir, 'secrets.json')} under "admin")\n` +
        `  ./playbooks/status.mjs     fleet sizes and scaling activity\n  ./playbooks/destroy.mjs    stop everything\n`);
      return ok(`${gatewayUrl} answers`);
    },
  });
}

export async function status(run: TargetRun): Promise<void> {
  const dir = localFolder(run.root);
  await run.play.task({
    name: 'fleet status',
    tags: ['always'],
    run: async (ctx) => {
      const state = (await fleetState(dir).catch(() => undefined)) ?? undefined;
      ctx.print(formatFleetStatus(state, await readActivity(dir, 10)));
      const db = await readPrivateServer(dir);
      const dbPid = privateServerPid(dir);
      if (db) ctx.print(`\nprivate database server: ${dbPid ? `running (pid ${dbPid}) on 127.0.0.1:${db.port}` : 'stopped'}`);
      if (!state) {
        const stale = await readState(dir);
        return ok(stale ? 'not running (a stale state file remains; destroy cleans it up)' : 'not running');
      }
      const sizes = Object.entries(state.services).map(([s, x]) => `${s} ${x.size}`).join(', ');
      return ok(`${state.gatewayUrl}: ${sizes}`);
    },
  });
}

export async function destroy(run: TargetRun): Promise<void> {
  const dir = localFolder(run.root);
  await run.play.task({
    name: 'stop fleets and gateway',
    tags: ['fleet'],
    run: async (ctx) => {
      if (ctx.check) return (await fleetState(dir)) ? changed('would stop every worker, the gateway and the supervisor') : ok('nothing runs');
      ctx.progress('draining and stopping every worker');
      const r = await stopFleet(dir);
      return r.stopped ? changed(`stopped ${r.pids.length} worker(s), the gateway and the supervisor`) : ok('nothing was running');
    },
  });
  await run.play.task({
    name: 'stop private database server',
    tags: ['database'],
    run: async (ctx) => {
      const pid = privateServerPid(dir);
      if (pid === undefined) return ok((await readPrivateServer(dir)) ? 'not running' : 'none (the shop uses an external server)');
      if (ctx.check) return changed(`would stop pid ${pid}`);
      await stopPrivateServer(dir);
      return changed(`stopped pid ${pid}; its data stays in ${join(dir, 'mariadb')}`);
    },
  });
}

function seedOutcome(lines: string[], inserted: RegExp) {
  const last = lines.at(-1) ?? '';
  const n = Number(inserted.exec(last)?.[1] ?? '0');
  const text = last.replace(/^\w+ seed: /, '');
  return n > 0 ? changed(text) : ok(text);
}

function smokePaths(services: string[]): string[] {
  return [...(services.includes('catalog') ? ['/api/catalog/products?limit=1'] : []), '/'];
}

async function adminConnection(a: AdminAddress): Promise<mysql.Connection> {
  return mysql.createConnection({ host: a.host, port: a.port, user: a.user, password: a.password, connectTimeout: 5000 });
}

/**
 * Finds the server to use: the private one when an earlier deploy started it, else MYSQL_URL / the
 * inventory's URL when it answers, else a new private server when mariadbd or mysqld is installed.
 */
async function databaseServer(
  dir: string,
  inventoryUrl: string | undefined,
  secrets: SecretsFile,
  check: boolean,
  progress: (line: string) => void,
): Promise<{ server: DatabaseServer | undefined; changed: boolean; message: string }> {
  const record = await readPrivateServer(dir);
  if (record) {
    const rootSecret = secrets.get<{ password: string }>('mysql-admin');
    const admin: AdminAddress = { host: '127.0.0.1', port: record.port, user: 'root', password: rootSecret?.password ?? '' };
    if (rootSecret && privateServerPid(dir) !== undefined && (await probeServer(admin)).state === 'answers') {
      return { server: { admin, private: true }, changed: false, message: `private server on 127.0.0.1:${record.port}` };
    }
    if (check) return { server: undefined, changed: true, message: `would start the private server in ${join(dir, 'mariadb')}` };
    progress('starting the private database server');
    return { server: { admin: await startPrivate(dir, secrets), private: true }, changed: true, message: `private server started on 127.0.0.1:${(await readPrivateServer(dir))?.port}` };
  }

  const url = process.env.MYSQL_URL ?? inventoryUrl ?? 'mysql://root@127.0.0.1:3306';
  const admin = addressFromUrl(url);
  const probe = await probeServer(admin);
  const shown = `${admin.host}:${admin.port}`;
  if (probe.state === 'answers') return { server: { admin, private: false }, changed: false, message: `${probe.version} at ${shown}` };
  if (probe.state === 'refused') {
    throw new RefusedError(`the server at ${shown} answers but ${probe.why}: set MYSQL_URL=mysql://<admin user>:<password>@${shown} (a user that may create databases and users)`);
  }
  if (!serverPrograms()) {
    throw new RefusedError(`nothing answers at ${shown} (${probe.why}) and neither mariadbd nor mysqld is installed: install mariadb-server (apt-get install mariadb-server) or set MYSQL_URL to a running MySQL 8 / MariaDB server`);
  }
  if (check) return { server: undefined, changed: true, message: `nothing answers at ${shown}: would start a private server with its data in ${join(dir, 'mariadb')}` };
  progress(`nothing answers at ${shown}: starting a private server with its data in ${join(dir, 'mariadb')}`);
  const started = await startPrivate(dir, secrets);
  return { server: { admin: started, private: true }, changed: true, message: `private server started on 127.0.0.1:${started.port} (data in ${join(dir, 'mariadb')})` };
}

/**
 * Starts the private server and returns root's address. A fresh data directory has a root without
 * a password: it gets a generated one (kept in the secrets file first, so a failure half-way is
 * healed by the next deploy), and root accounts other than the loopback ones are dropped.
 */
async function startPrivate(dir: string, secrets: SecretsFile): Promise<AdminAddress> {
  const running = privateServerPid(dir) !== undefined ? await readPrivateServer(dir) : undefined;
  const port = running?.port ?? (await startPrivateServer(dir)).port;
  const { value } = await secrets.ensure('mysql-admin', () => ({ engine: 'mysql', host: '127.0.0.1', port, username: 'root', password: generatePassword(), dbname: 'mysql' }));
  secrets.set('mysql-admin', { ...value, port });
  await secrets.save();
  const admin: AdminAddress = { host: '127.0.0.1', port, user: 'root', password: String(value.password) };
  if ((await probeServer(admin)).state === 'answers') return admin;
  const fresh = { ...admin, password: '' };
  if ((await probeServer(fresh)).state !== 'answers') {
    throw new RefusedError(`the private server in ${join(dir, 'mariadb')} refuses the root password kept in ${secrets.path}; stop it (./playbooks/destroy.mjs) and remove ${join(dir, 'mariadb')} to start afresh`);
  }
  const c = await adminConnection(fresh);
  try {
    const [roots] = await c.query<mysql.RowDataPacket[]>("SELECT Host FROM mysql.user WHERE User = 'root'");
    for (const r of roots) {
      const host = String(r.Host);
      if (['localhost', '127.0.0.1', '::1'].includes(host)) await c.query('ALTER USER ?@? IDENTIFIED BY ?', ['root', host, admin.password]);
      else await c.query('DROP USER IF EXISTS ?@?', ['root', host]);
    }
  } finally {
    await c.end().catch(() => undefined);
  }
  if ((await probeServer(admin)).state !== 'answers') throw new RefusedError(`the private server in ${join(dir, 'mariadb')} does not accept its new root password`);
  return admin;
}

async function fleetSpec(run: TargetRun, inv: Environment, dir: string): Promise<FleetSpec> {
  const local = inv.local!;
  const limit = run.play.options.limit;
  const current = await fleetState(dir).catch(() => undefined);
  const previous = current ?? (await readState(dir));
  // A free port chosen once stays the shop's port: the orders service is configured with it.
  let port = local.gatewayPort;
  if (port === 0 && previous?.gatewayUrl) port = Number(new URL(previous.gatewayUrl).port);
  if (port === 0) port = await freePort();
  const gatewayUrl = `http://127.0.0.1:${port}`;
  const perService = Math.max(1, Math.floor(local.workersPerCpu * availableParallelism()));
  const services: Record<string, ServiceSpec> = {};
  for (const [name, s] of Object.entries(inv.services)) {
    const env: Record<string, string> = {
      NODE_ENV: 'production',
      DB_SECRET: secretRef(dir, secretKeyFor(name)),
      DB_TLS: 'off',
      JWT_VERIFY_SECRET: secretRef(dir, 'jwt-public'),
      TRUSTED_PROXY_HOPS: '1',
      SHUTDOWN_TIMEOUT_MS: String(s.drainSeconds * 1000),
      ...(name === 'users' ? { JWT_SIGNING_SECRET: secretRef(dir, 'jwt') } : {}),
      ...(name === 'inventory' || name === 'orders' ? { SERVICE_CREDENTIAL_SECRET: secretRef(dir, 'service-credential') } : {}),
      // As on AWS (ServiceBaseUrl): orders reaches catalog and inventory through the load balancer.
      ...(name === 'orders' ? { CATALOG_URL: gatewayUrl, INVENTORY_URL: gatewayUrl } : {}),
      ...(s.environment ?? {}),
    };
    const max = Math.max(s.scaling.min, Math.min(s.scaling.max, perService));
    const spec = await localServiceSpec(name, {
      root: run.root,
      env,
      routes: [s.pathPrefix],
      policy: {
        min: s.scaling.min,
        max,
        desired: Math.min(max, s.scaling.desired),
        cpuTarget: s.scaling.cpuTarget,
        warmupSeconds: s.scaling.warmupSeconds,
        cooldownSeconds: s.scaling.cooldownSeconds,
        evaluationSeconds: local.evaluationSeconds ?? DEFAULT_EVALUATION_SECONDS,
      },
    });
    // --limit: every other service keeps the code it runs now (nothing else rolls).
    const running = current?.services[name]?.artifact;
    if (limit !== undefined && limit !== name && running) spec.artifact = running;
    services[name] = spec;
  }
  const drainSeconds = Math.max(...Object.values(inv.services).map((s) => s.drainSeconds));
  const startSeconds = Math.max(...Object.values(inv.services).map((s) => s.healthCheckGracePeriod));
  return {
    gateway: { port, staticDir: join(run.root, 'static') },
    services,
    tuning: { drainSeconds, startSeconds: Math.max(1, startSeconds) },
  };
}

