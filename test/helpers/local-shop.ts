// The local target as a user runs it: ./playbooks/deploy.mjs, status.mjs and destroy.mjs as real
// processes, each test file with its own folder (SALEDAY_LOCAL_DIR), its own project name (so its
// databases and users are its own) and a free gateway port. Teardown destroys the shop, checks
// that no process is left, and drops the databases and users the deploy made.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RowDataPacket } from 'mysql2';
import { onExit } from 'signal-exit';
import { privateServerPid } from '../../playbooks/lib/local/mysql-server.js';
import { privateRedisPid } from '../../playbooks/lib/local/redis-server.js';
import { keeperFile } from '../../localcloud/local-paths.js';
import { shopProcesses, signalProcess } from '../../localcloud/shop-processes.js';
import { adminConnection } from './mysql.js';
import { ROOT, runNode, type CommandResult } from './processes.js';
import type { TestTap } from './mysql.js';
import type { LocalState } from '../../environment/index.js';

export interface LocalShop {
  dir: string;
  project: string;
  /** -e overrides every run gets (project, gateway port 0, faster scaling for tests). */
  overrides: string[];
  /** Runs ./playbooks/<name>.mjs with the shop's folder (and, for deploy and rehearse, the overrides). */
  playbook(name: 'deploy' | 'status' | 'destroy' | 'rehearse', args?: string[], env?: Record<string, string>): Promise<CommandResult>;
  state(): Promise<LocalState>;
  secrets(): Promise<Record<string, Record<string, string>>>;
}

export async function localShop(t: TestTap, opts: { overrides?: string[]; env?: Record<string, string> } = {}): Promise<LocalShop> {
  const dir = await mkdtemp(join(tmpdir(), 'saleday-local-'));
  const project = `e2e${randomBytes(4).toString('hex')}`;
  const overrides = [`project=${project}`, 'local.gatewayPort=0', ...(opts.overrides ?? [])];
  const baseEnv: Record<string, string> = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', SALEDAY_LOCAL_DIR: dir, NODE_NO_WARNINGS: '1', ...(opts.env ?? {}) };
  if (process.env.MYSQL_URL && !opts.env?.MYSQL_URL) baseEnv.MYSQL_URL = process.env.MYSQL_URL;
  const playbook: LocalShop['playbook'] = (name, args = [], env = {}) =>
    runNode(join(ROOT, 'playbooks', `${name}.mjs`), [...(name === 'deploy' || name === 'rehearse' ? overrides.flatMap((o) => ['-e', o]) : []), ...args], { ...baseEnv, ...env });
  // tap ends a file that overruns its timeout with SIGALRM and SIGKILL half a second apart, too
  // soon for the teardown's destroy: the shop's processes are then ended with the test process.
  const removeExitGuard = onExit(() => endShopProcesses(dir));
  t.teardown(async () => {
    await playbook('destroy');
    removeExitGuard();
    const a = await adminConnection();
    try {
      const [dbs] = await a.query<RowDataPacket[]>('SELECT SCHEMA_NAME AS name FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE ?', [`${project}\\_%`]);
      for (const d of dbs) await a.query(`DROP DATABASE IF EXISTS \`${String(d.name)}\``);
      const [users] = await a.query<RowDataPacket[]>('SELECT User AS u, Host AS h FROM mysql.user WHERE User LIKE ?', [`${project}\\_%`]);
      for (const u of users) await a.query('DROP USER IF EXISTS ?@?', [String(u.u), String(u.h)]);
    } finally {
      await a.end();
    }
    await rm(dir, { recursive: true, force: true });
  });
  return {
    dir,
    project,
    overrides,
    playbook,
    state: async () => JSON.parse(await readFile(join(dir, 'state.json'), 'utf8')) as LocalState,
    secrets: async () => JSON.parse(await readFile(join(dir, 'secrets.json'), 'utf8')) as Record<string, Record<string, string>>,
  };
}

/**
 * Ends a shop's processes at once, synchronously (it runs as the test process exits): the
 * keeper's process group (supervisor, gateway, workers), anything else marked as the shop's, a
 * private mariadbd and a private redis-server.
 */
export function endShopProcesses(dir: string): void {
  try {
    const { pid } = JSON.parse(readFileSync(keeperFile(dir), 'utf8')) as { pid: number };
    if (Number.isInteger(pid) && pid > 1) process.kill(-pid, 'SIGTERM');
  } catch {
    // no keeper recorded, or it is gone already
  }
  // And whatever carries the shop's marker (a gateway or workers a crash left behind).
  for (const p of shopProcesses(dir)) signalProcess(p, 'SIGTERM');
  const mariadbd = privateServerPid(dir);
  if (mariadbd !== undefined) process.kill(mariadbd, 'SIGTERM');
  const redis = privateRedisPid(dir);
  if (redis !== undefined) process.kill(redis, 'SIGTERM');
}

/** The PLAY RECAP counts of a playbook's output. */
export function recap(stdout: string): Record<'ok' | 'changed' | 'skipped' | 'failed', number> {
  const m = /ok=(\d+)\s+changed=(\d+)\s+skipped=(\d+)\s+failed=(\d+)/.exec(stdout);
  if (!m) throw new Error(`no PLAY RECAP in:\n${stdout.slice(-2000)}`);
  return { ok: Number(m[1]), changed: Number(m[2]), skipped: Number(m[3]), failed: Number(m[4]) };
}

/** The shop's URL as deploy prints it. */
export function printedUrl(stdout: string): string {
  const m = /The shop runs at (http:\/\/\S+)/.exec(stdout);
  if (!m) throw new Error(`deploy printed no URL:\n${stdout.slice(-2000)}`);
  return m[1]!;
}

/** Passes when the playbook exited with `code`; otherwise fails with the end of its output. */
export function expectExit(t: { ok(v: unknown, m: string): unknown }, r: CommandResult, code: number, what: string): void {
  t.ok(r.code === code, r.code === code ? `${what}: exit ${code}` : `${what}: exit ${r.code}, expected ${code}\n${r.stdout.slice(-3000)}\n${r.stderr.slice(-1000)}`);
}
