// The local target's modules on their own, against fakes of their narrow APIs: what each does,
// what it says under --check (and that it then changes nothing), and when it is ok, changed or
// skipped. The real thing end to end: test/e2e/local-shop.test.ts.
import t from 'tap';
import { chmod, mkdtemp, rm, stat } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type LocalState, type OperatorCommand, SHOP_SERVICES } from '../../environment/index.js';
import type { ApplyResult, FleetSpec } from '../../localcloud/index.js';
import type { FleetApi } from '../../playbooks/lib/local/fleet-api.js';
import type { AdminAddress, MysqlServerApi, Probe } from '../../playbooks/lib/local/mysql-server.js';
import { ensureBuilt } from '../../playbooks/lib/local/modules/build.js';
import { type DatabaseServer, type DatabaseServerFound, ensureDatabaseServer, stopDatabaseServer } from '../../playbooks/lib/local/modules/database-server.js';
import { applyFleetSpec, stopFleet } from '../../playbooks/lib/local/modules/fleet.js';
import { fleetStatus } from '../../playbooks/lib/local/modules/fleet-status.js';
import { type CommandArgs, declaredCommands, ensureAdminAccount, runMigrations, runSeed } from '../../playbooks/lib/local/modules/operator-commands.js';
import { ensureSecretsFile } from '../../playbooks/lib/local/modules/secrets-file.js';
import { ensureServiceDatabase } from '../../playbooks/lib/local/modules/service-database.js';
import { ensureSupervisor } from '../../playbooks/lib/local/modules/supervisor.js';
import { SecretsFile } from '../../playbooks/lib/local/secrets-file.js';
import type { CommandOptions, ServiceCommandApi } from '../../playbooks/lib/local/service-command.js';
import type { TaskContext } from '../../playbooks/lib/runner.js';
import { runTask } from '../playbooks/support.js';

const CHECK = ['--check'];
const dir = await mkdtemp(join(tmpdir(), 'sd-local-modules-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));
let folders = 0;
const folder = () => join(dir, `f${folders++}`);

/** Runs a module that also hands back what it found; the outcome and the found value. */
async function found(argv: string[], run: (ctx: TaskContext) => Promise<DatabaseServerFound>) {
  let server: DatabaseServer | undefined;
  const r = await runTask(argv, async (ctx) => {
    const f = await run(ctx);
    server = f.server;
    return f.outcome;
  });
  return { ...r, server };
}

/** A MySQL server world: who answers at which address, a private server that may run. */
function fakeMysql(world: { answers?: (a: AdminAddress) => Probe; record?: { port: number }; pid?: number; programs?: boolean }) {
  const calls: string[] = [];
  let rootPassword: string | undefined;
  const api: MysqlServerApi = {
    privateServer: () => Promise.resolve(world.record),
    privateServerPid: () => world.pid,
    probe: (a) => {
      if (world.record && a.port === world.record.port && world.pid !== undefined) {
        return Promise.resolve<Probe>(a.password === (rootPassword ?? '') ? { state: 'answers', version: 'private' } : { state: 'refused', why: 'denied' });
      }
      return Promise.resolve(world.answers?.(a) ?? { state: 'absent', why: 'ECONNREFUSED' });
    },
    canStartPrivate: () => world.programs ?? false,
    startPrivate: () => {
      calls.push('start');
      world.record = { port: 45678 };
      world.pid = 4242;
      return Promise.resolve({ port: 45678 });
    },
    stopPrivate: () => {
      calls.push('stop');
      const pid = world.pid;
      world.pid = undefined;
      return Promise.resolve(pid);
    },
    secureRoot: (fresh, password) => {
      calls.push(`secure ${fresh.user}@${fresh.port}`);
      rootPassword = password;
      return Promise.resolve();
    },
    connect: () => Promise.reject(new Error('no connection in this test')),
  };
  return { api, calls };
}

t.test('database server: the server at the URL when it answers; a refusal says what to set', async (t) => {
  const mysql = fakeMysql({ answers: (a) => (a.user === 'root' ? { state: 'answers', version: '10.11.9-MariaDB' } : { state: 'refused', why: `it refused the credentials of ${a.user}` }) });
  const secrets = await SecretsFile.load(folder());
  const r = await found([], (ctx) => ensureDatabaseServer({ dir: '/x', url: 'mysql://root@db.example:3307' }, { mysql: mysql.api, secrets }, ctx));
  t.match(r.outcome, { status: 'ok', message: '10.11.9-MariaDB at db.example:3307' });
  t.match(r.server, { admin: { host: 'db.example', port: 3307, user: 'root' }, private: false });
  const refused = await found([], (ctx) => ensureDatabaseServer({ dir: '/x', url: 'mysql://app:pw@db.example' }, { mysql: mysql.api, secrets }, ctx));
  t.match(refused.outcome, { status: 'failed', message: /^the server at db\.example:3306 answers but it refused the credentials of app: set MYSQL_URL=mysql:\/\/<admin user>:<password>@db\.example:3306/ });
  t.notMatch(refused.text, /pw/, 'the password given is not echoed');
  t.same(mysql.calls, []);
});

t.test('database server: nothing answers and nothing to start one with is a refusal', async (t) => {
  const mysql = fakeMysql({ programs: false });
  const r = await found([], async (ctx) => ensureDatabaseServer({ dir: '/x', url: 'mysql://root@127.0.0.1:3306' }, { mysql: mysql.api, secrets: await SecretsFile.load(folder()) }, ctx));
  t.match(r.outcome, { status: 'failed', message: /nothing answers at 127\.0\.0\.1:3306 \(ECONNREFUSED\) and neither mariadbd nor mysqld is installed: install mariadb-server/ });
});

t.test('database server: a private one, started (root secured, its password kept) and found again', async (t) => {
  const local = folder();
  const mysql = fakeMysql({ programs: true });
  const secrets = await SecretsFile.load(local);
  const check = await found(CHECK, (ctx) => ensureDatabaseServer({ dir: local, url: 'mysql://root@127.0.0.1:3306' }, { mysql: mysql.api, secrets }, ctx));
  t.match(check.outcome, { status: 'changed', message: `nothing answers at 127.0.0.1:3306: would start a private server with its data in ${local}/mariadb` });
  t.equal(check.server, undefined, 'no server for later tasks under --check');
  t.same(mysql.calls, [], '--check starts nothing');

  const started = await found([], (ctx) => ensureDatabaseServer({ dir: local, url: 'mysql://root@127.0.0.1:3306' }, { mysql: mysql.api, secrets }, ctx));
  t.match(started.outcome, { status: 'changed', message: `private server started on 127.0.0.1:45678 (data in ${local}/mariadb)` });
  t.match(started.text, /starting a private server/);
  t.same(mysql.calls, ['start', 'secure root@45678']);
  const kept = (await SecretsFile.load(local)).get<{ password: string; port: number }>('mysql-admin');
  t.equal(kept?.port, 45678, 'the root secret is saved before anything else can fail');
  t.equal(started.server?.admin.password, kept?.password);
  t.notMatch(started.text, kept!.password);

  const again = await found([], async (ctx) => ensureDatabaseServer({ dir: local, url: 'mysql://root@127.0.0.1:3306' }, { mysql: mysql.api, secrets: await SecretsFile.load(local) }, ctx));
  t.match(again.outcome, { status: 'ok', message: 'private server on 127.0.0.1:45678' });
  t.same(mysql.calls, ['start', 'secure root@45678'], 'nothing more started');

  const stopCheck = await runTask(CHECK, (ctx) => stopDatabaseServer({ dir: local }, { mysql: mysql.api }, ctx));
  t.match(stopCheck.outcome, { status: 'changed', message: 'would stop pid 4242' });
  const stop = await runTask([], (ctx) => stopDatabaseServer({ dir: local }, { mysql: mysql.api }, ctx));
  t.match(stop.outcome, { status: 'changed', message: `stopped pid 4242; its data stays in ${local}/mariadb` });
  t.match((await runTask([], (ctx) => stopDatabaseServer({ dir: local }, { mysql: mysql.api }, ctx))).outcome, { status: 'ok', message: 'not running' });
  t.match((await runTask([], (ctx) => stopDatabaseServer({ dir: local }, { mysql: fakeMysql({}).api }, ctx))).outcome, { status: 'ok', message: 'none (the shop uses an external server)' });

  const restart = await found(CHECK, async (ctx) => ensureDatabaseServer({ dir: local, url: 'mysql://root@127.0.0.1:3306' }, { mysql: mysql.api, secrets: await SecretsFile.load(local) }, ctx));
  t.match(restart.outcome, { status: 'changed', message: `would start the private server in ${local}/mariadb` });
});

t.test('secrets file: generated once, never printed, made 0600; --check writes nothing', async (t) => {
  const local = folder();
  const check = await runTask(CHECK, async (ctx) => ensureSecretsFile({ adminEmail: 'admin@shop.example' }, await SecretsFile.load(local), ctx));
  t.match(check.outcome, { status: 'changed', message: `would write ${local}/secrets.json (new: jwt, service-credential, admin)` });
  t.notOk(existsSync(join(local, 'secrets.json')));
  const first = await runTask([], async (ctx) => ensureSecretsFile({ adminEmail: 'admin@shop.example' }, await SecretsFile.load(local), ctx));
  t.match(first.outcome, { status: 'changed', message: `${local}/secrets.json (generated: jwt, service-credential, admin), mode 0600` });
  const file = join(local, 'secrets.json');
  t.equal((await stat(file)).mode & 0o777, 0o600);
  const secrets = await SecretsFile.load(local);
  t.equal(secrets.get<{ email: string }>('admin')?.email, 'admin@shop.example');
  t.equal(secrets.get<{ publicKey: string }>('jwt-public')?.publicKey, secrets.get<{ publicKey: string }>('jwt')?.publicKey);
  t.notMatch(first.text, secrets.get<{ password: string }>('admin')!.password);
  t.match((await runTask([], async (ctx) => ensureSecretsFile({ adminEmail: 'admin@shop.example' }, await SecretsFile.load(local), ctx))).outcome, {
    status: 'ok',
    message: `${local}/secrets.json holds every secret`,
  });
  await chmod(file, 0o644);
  t.match((await runTask(CHECK, async (ctx) => ensureSecretsFile({ adminEmail: 'admin@shop.example' }, await SecretsFile.load(local), ctx))).outcome, {
    status: 'changed',
    message: `would write ${file} (mode 0600)`,
  });
  const fixed = await runTask([], async (ctx) => ensureSecretsFile({ adminEmail: 'admin@shop.example' }, await SecretsFile.load(local), ctx));
  t.match(fixed.outcome, { status: 'changed', message: `${file}, mode 0600` });
  t.match(fixed.text, /was readable by others: now 0600/);
  t.equal((await stat(file)).mode & 0o777, 0o600);
});

/** Service commands that answer with fixed lines, recording what ran. */
function fakeCommands(lines: Record<string, string[]>) {
  const ran: Array<{ service: string; command: string; opts: CommandOptions }> = [];
  const api: ServiceCommandApi = {
    run: (service, command, opts) => {
      ran.push({ service, command, opts });
      const out = lines[`${service} ${command}`] ?? [];
      for (const l of out) opts.onLine?.(l);
      return Promise.resolve({ stdout: out.join('\n'), lines: out });
    },
  };
  return { api, ran };
}

const server: DatabaseServer = { admin: { host: '127.0.0.1', port: 3306, user: 'root', password: '' }, private: false };

t.test('declared commands: every migration, then the seeds, then the admin account, in catalogue order', (t) => {
  const tasks = (role: OperatorCommand['role']) => declaredCommands(SHOP_SERVICES, role).map((c) => `${c.command.task} (${c.service} ${c.program})`);
  t.same(tasks('migrate'), ['migrations users (users migrate)', 'migrations catalog (catalog migrate)', 'migrations inventory (inventory migrate)', 'migrations orders (orders migrate)']);
  t.same(tasks('seed'), ['seed catalog (catalog seed)', 'seed stock (inventory seed)']);
  t.same(tasks('admin'), ['admin account (users create-admin)']);
  t.end();
});

t.test('migrations, seeds and the admin account: skipped under --check or without a server; the output says ok or changed', async (t) => {
  const env = { DB_SECRET: 'file:/x#db-catalog' };
  const command = (service: string, role: OperatorCommand['role']) => declaredCommands(SHOP_SERVICES, role).find((c) => c.service === service)!;
  const args = (service: string, role: OperatorCommand['role'], withServer = true): CommandArgs => ({ ...command(service, role), env, server: withServer ? server : undefined });
  const cmds = fakeCommands({
    'catalog migrate': ['applied 001-products', 'applied 002-pages'],
    'orders migrate': ['nothing to apply'],
    'catalog seed': ['  seeded 10/10 products', 'catalog seed: 10 product(s) inserted, 0 already present'],
    'inventory seed': ['inventory seed: 0 sku(s) stocked, 10 already had stock'],
    'users create-admin': ['admin root@shop.example (id 1) already exists, unchanged'],
  });
  for (const argv of [CHECK, []]) {
    const withServer = argv.length > 0;
    t.match((await runTask(argv, (ctx) => runMigrations(args('catalog', 'migrate', withServer), cmds.api, ctx))).outcome, { status: 'skipped', message: '--check runs no migrations' });
    t.match((await runTask(argv, (ctx) => runSeed(args('catalog', 'seed', withServer), cmds.api, ctx))).outcome, { status: 'skipped', message: '--check seeds nothing' });
  }
  t.same(cmds.ran, [], 'nothing ran');
  t.match((await runTask([], (ctx) => runMigrations(args('catalog', 'migrate'), cmds.api, ctx))).outcome, { status: 'changed', message: '2 applied' });
  t.match(cmds.ran[0], { service: 'catalog', command: 'migrate', opts: { args: ['up'], env } }, 'migrate up with the service database secret');
  t.match((await runTask([], (ctx) => runMigrations(args('orders', 'migrate'), cmds.api, ctx))).outcome, { status: 'ok', message: 'schema is up to date' });
  t.match((await runTask([], (ctx) => runSeed(args('catalog', 'seed'), cmds.api, ctx))).outcome, { status: 'changed', message: '10 product(s) inserted, 0 already present' });
  t.match((await runTask([], (ctx) => runSeed(args('inventory', 'seed'), cmds.api, ctx))).outcome, { status: 'ok', message: '0 sku(s) stocked, 10 already had stock' });

  const secrets = await SecretsFile.load(folder());
  secrets.set('admin', { email: 'root@shop.example', password: 'generated-password' });
  const admin = await runTask([], (ctx) => ensureAdminAccount(args('users', 'admin'), { commands: cmds.api, secrets }, ctx));
  t.match(admin.outcome, { status: 'ok', message: `root@shop.example (password in ${secrets.path} under "admin")` });
  const call = cmds.ran.at(-1)!;
  t.match(call, { service: 'users', command: 'create-admin' });
  t.same(call.opts.args, ['--email', 'root@shop.example', '--name', 'Shop admin']);
  t.equal(call.opts.env.ADMIN_PASSWORD, 'generated-password', 'the password goes in the environment, not the arguments');
  const created = fakeCommands({ 'users create-admin': ['admin root@shop.example (id 7) created'] });
  t.match((await runTask([], (ctx) => ensureAdminAccount(args('users', 'admin'), { commands: created.api, secrets }, ctx))).outcome, {
    status: 'changed',
    message: `root@shop.example (password in ${secrets.path} under "admin"): (id 7) created`,
  });
  t.match((await runTask(CHECK, (ctx) => ensureAdminAccount(args('users', 'admin'), { commands: created.api, secrets }, ctx))).outcome, { status: 'skipped', message: '--check creates no account' });
});

t.test('service database: skipped without a server, a promise under --check', async (t) => {
  const api = { mysql: fakeMysql({}).api, secrets: await SecretsFile.load(folder()) };
  const args = { project: 'p', environment: 'e', service: 'catalog' };
  t.match((await runTask(CHECK, (ctx) => ensureServiceDatabase({ ...args, server: undefined }, api, ctx))).outcome, { status: 'skipped', message: 'no database server yet (--check)' });
  t.match((await runTask(CHECK, (ctx) => ensureServiceDatabase({ ...args, server }, api, ctx))).outcome, { status: 'ok', message: "would make sure catalog's database, user and grants exist" });
});

t.test('build: ok when dist/ is current, builds when a source is newer, --check builds nothing', async (t) => {
  let built = 0;
  const api = (stale: string | undefined) => ({ staleBuild: () => Promise.resolve(stale), build: () => Promise.resolve(void built++) });
  t.match((await runTask([], (ctx) => ensureBuilt({ root: '/r' }, api(undefined), ctx))).outcome, { status: 'ok', message: 'dist/ is newer than every source file' });
  t.match((await runTask(CHECK, (ctx) => ensureBuilt({ root: '/r' }, api('services/catalog/routes.ts'), ctx))).outcome, {
    status: 'changed',
    message: 'would build (services/catalog/routes.ts changed since the last build)',
  });
  t.equal(built, 0);
  t.match((await runTask([], (ctx) => ensureBuilt({ root: '/r' }, api('dist/ is missing'), ctx))).outcome, { status: 'changed', message: 'built dist/ (tsc -p tsconfig.build.json)' });
  t.equal(built, 1);
});

/** The local cloud seen through its control API: a state, applies and stops recorded. */
function fakeFleet(state: LocalState | undefined, result?: ApplyResult) {
  const done: string[] = [];
  const api: FleetApi = {
    state: () => Promise.resolve(state),
    savedState: () => Promise.resolve(state),
    activity: () => Promise.resolve([{ time: '2030-01-01T00:00:01.000Z', service: 'catalog', from: 1, to: 2, cause: 'target tracking' }]),
    ensureSupervisor: () => (done.push('supervisor'), Promise.resolve({ pid: 77, started: state === undefined, socket: '/s' })),
    apply: (_spec, onProgress) => (done.push('apply'), onProgress('catalog', 'launching worker'), Promise.resolve(result!)),
    stop: () => (done.push('stop'), Promise.resolve({ stopped: state !== undefined, pids: state ? [11, 12] : [] })),
  };
  return { api, done };
}

const running: LocalState = {
  environment: 'local',
  gatewayUrl: 'http://127.0.0.1:9090',
  updatedAt: '2030-01-01T00:00:00.000Z',
  services: { catalog: { min: 1, max: 2, desired: 1, size: 1, workers: [{ pid: 11, port: 4001, state: 'in-service' }], cpuTarget: 70, artifact: 'sha256:ab' } },
};
const spec: FleetSpec = { gateway: { port: 9090 }, services: {} };

t.test('supervisor and fleet: --check says what would happen; a second apply is ok', async (t) => {
  const none = fakeFleet(undefined, { changed: true, gatewayUrl: 'http://127.0.0.1:9090', gateway: 'started', services: { catalog: 'created' } });
  t.match((await runTask(CHECK, (ctx) => ensureSupervisor(none.api, ctx))).outcome, { status: 'changed', message: 'would start the supervisor' });
  t.match((await runTask(CHECK, (ctx) => applyFleetSpec({ spec }, none.api, ctx))).outcome, { status: 'changed', message: 'would apply 0 groups behind port 9090' });
  t.match((await runTask(CHECK, (ctx) => stopFleet(none.api, ctx))).outcome, { status: 'ok', message: 'nothing runs' });
  t.same(none.done, [], '--check changes nothing');
  t.match((await runTask([], (ctx) => ensureSupervisor(none.api, ctx))).outcome, { status: 'changed', message: 'started (pid 77)' });
  const applied = await runTask([], (ctx) => applyFleetSpec({ spec }, none.api, ctx));
  t.match(applied.outcome, { status: 'changed', message: 'catalog created; gateway started at http://127.0.0.1:9090', data: { gatewayUrl: 'http://127.0.0.1:9090' } });
  t.match(applied.text, /catalog: launching worker/);

  const up = fakeFleet(running, { changed: false, gatewayUrl: 'http://127.0.0.1:9090', gateway: 'unchanged', services: { catalog: 'unchanged' } });
  t.match((await runTask(CHECK, (ctx) => ensureSupervisor(up.api, ctx))).outcome, { status: 'ok', message: 'running' });
  t.match((await runTask(CHECK, (ctx) => applyFleetSpec({ spec }, up.api, ctx))).outcome, { status: 'changed', message: 'would apply 0 groups behind port 9090 (running: catalog)' });
  t.match((await runTask([], (ctx) => ensureSupervisor(up.api, ctx))).outcome, { status: 'ok', message: 'running (pid 77)' });
  t.match((await runTask([], (ctx) => applyFleetSpec({ spec }, up.api, ctx))).outcome, { status: 'ok', message: 'every group unchanged; gateway at http://127.0.0.1:9090' });
  t.match((await runTask(CHECK, (ctx) => stopFleet(up.api, ctx))).outcome, { status: 'changed', message: 'would stop every worker, the gateway and the supervisor' });
  t.match((await runTask([], (ctx) => stopFleet(up.api, ctx))).outcome, { status: 'changed', message: 'stopped 2 worker(s), the gateway and the supervisor' });
});

t.test('fleet status: the table, the private database server, where the shop answers', async (t) => {
  const mysql = fakeMysql({ record: { port: 45678 }, pid: 4242 }).api;
  const up = await runTask([], (ctx) => fleetStatus({ fleet: fakeFleet(running).api, mysql }, ctx));
  t.match(up.outcome, { status: 'ok', message: 'http://127.0.0.1:9090: catalog 1' });
  t.match(up.text, /catalog +1 +1 +2 +1 +70%/);
  t.match(up.text, /catalog +1 -> 2 +target tracking/);
  t.match(up.text, /private database server: running \(pid 4242\) on 127\.0\.0\.1:45678/);
  const down = await runTask([], (ctx) => fleetStatus({ fleet: fakeFleet(undefined).api, mysql: fakeMysql({}).api }, ctx));
  t.match(down.outcome, { status: 'ok', message: 'not running' });
  t.notMatch(down.text, /private database server/);
});
