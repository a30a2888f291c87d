// The database bootstrap, one plain function for every target: for each service, its database and
// least-privilege user from its secret (database-user.ts), its pending migrations (the migrate
// command it declares: umzug under the same named lock as at service start), its seed data where
// asked (the seed commands), and the shop's admin account (the admin command) with a password
// generated into the secret store. Idempotent: a second run changes nothing. Under check it reads
// only and says what it would do. On AWS it runs inside the VPC as a Lambda function (handler.ts);
// locally the deploy play calls its database step directly.
import mysql from 'mysql2/promise';
import type { OperatorCommand } from '../../../environment/index.js';
import { type TlsMode, tlsFor } from '../../../services/kit/db.js';
import { generatePassword } from '../local/secrets-file.js';
import { type ServiceCommandApi, reportedChanges } from '../local/service-command.js';
import { type ServiceDbSecret, alternateUserName, ensureDatabaseUser } from './database-user.js';
import type { SecretStore } from './secret-store.js';

/** The shop's admin account, unless the caller names another. */
export const DEFAULT_ADMIN_EMAIL = 'admin@shop.example';

/** How the bootstrap reaches the server as its master (admin) user; used for nothing else. */
export interface MasterConnection {
  host: string;
  port: number;
  user: string;
  password: string;
  /** `auto`: TLS for RDS hosts (the server requires it there). */
  tls: TlsMode;
}

export interface BootstrapService {
  name: string;
  /** Its database secret's name in the secret store. */
  secret: string;
  /** Its operator commands, as its declaration lists them. */
  commands: Readonly<Record<string, OperatorCommand>>;
}

export interface BootstrapInput {
  master: MasterConnection;
  services: readonly BootstrapService[];
  /** Run the seed commands (staging); production seeds nothing. */
  seed: boolean;
  /** The admin account and the secret holding `{email, password}`; none: no admin command runs. */
  admin?: { secret: string; email: string } | undefined;
  /** The hosts each user is made for (`%` on AWS). */
  userHosts: readonly string[];
  /** REQUIRE SSL on every service user (AWS). */
  requireSsl: boolean;
  /** Change nothing; report what would be done. */
  check: boolean;
  /** Extra environment for the service commands (DB_TLS locally; AWS credentials in Lambda). */
  commandEnv?: Readonly<Record<string, string>>;
  /** Services whose database password rotates (-e rotate=database), by alternating users. */
  rotate?: readonly string[] | undefined;
}

export interface BootstrapDeps {
  secrets: SecretStore;
  commands: ServiceCommandApi;
  /** Opens the master session (mysql2 by default). */
  connect?: (m: MasterConnection) => Promise<mysql.Connection>;
}

export interface ServiceReport {
  service: string;
  status: 'ok' | 'changed';
  /** What was done (or would be, under check); empty when nothing needed doing. */
  did: string[];
}

export interface BootstrapReport {
  check: boolean;
  services: ServiceReport[];
}

/** A failure of one service's step, its message already safe to print (no secret values). */
export class BootstrapError extends Error {
  constructor(readonly service: string, message: string) {
    super(`${service}: ${message}`);
    this.name = 'BootstrapError';
  }
}

const connectMaster = (m: MasterConnection): Promise<mysql.Connection> =>
  mysql.createConnection({ host: m.host, port: m.port, user: m.user, password: m.password, connectTimeout: 10_000, ...tlsFor(m.host, m.tls) });

export async function bootstrap(input: BootstrapInput, deps: BootstrapDeps): Promise<BootstrapReport> {
  const did = new Map(input.services.map((s) => [s.name, [] as string[]]));
  const note = (service: string, ...what: string[]) => did.get(service)!.push(...what);
  const step = async <T>(service: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      throw err instanceof BootstrapError ? err : new BootstrapError(service, (err as Error).message);
    }
  };

  // Databases and users, over one master session.
  const secrets = new Map<string, ServiceDbSecret>();
  const freshDatabase = new Set<string>();
  /** Under check: users that cannot log in yet (made or re-synced by the run), so commands cannot ask. */
  const cannotAsk = new Set<string>();
  const master = await (deps.connect ?? connectMaster)(input.master).catch((err: Error & { code?: string }) => {
    throw new Error(`the master user cannot connect to ${input.master.host}:${input.master.port}: ${err.code ?? err.message}`);
  });
  try {
    for (const s of input.services) {
      await step(s.name, async () => {
        const secret = dbSecretFrom(s.secret, await deps.secrets.get(s.secret));
        secrets.set(s.name, secret);
        const changes = await ensureDatabaseUser(master, secret, { hosts: input.userHosts, requireSsl: input.requireSsl, tls: input.master.tls, check: input.check });
        if (changes.some((c) => /database \S+ created|create database/.test(c))) freshDatabase.add(s.name);
        if (input.check && changes.some((c) => /^would (create user|re-sync)/.test(c))) cannotAsk.add(s.name);
        note(s.name, ...changes);
        if (input.rotate?.includes(s.name)) {
          // Alternating users: a new password for the pair's other user (made with the same grants
          // when missing), then the secret names it; the current user works until the next rotation.
          const next = alternateUserName(secret.username.replace(/_b$/, ''), secret.username);
          if (input.check) return note(s.name, `would rotate the password: a new one for ${next}, then its secret names it`);
          const rotated = { ...secret, username: next, password: generatePassword() };
          await ensureDatabaseUser(master, rotated, { hosts: input.userHosts, requireSsl: input.requireSsl, tls: input.master.tls, check: false });
          await deps.secrets.put(s.secret, { ...(await deps.secrets.get(s.secret)), username: rotated.username, password: rotated.password });
          secrets.set(s.name, rotated);
          note(s.name, `password rotated: ${next} now in its secret (${secret.username} works until the next rotation)`);
        }
      });
    }
  } finally {
    await master.end().catch(() => undefined);
  }

  const env = (s: BootstrapService, more: Record<string, string> = {}) => ({ LOG_LEVEL: 'warn', ...input.commandEnv, DB_SECRET: deps.secrets.ref(s.secret), ...more });
  const commandsOf = (role: OperatorCommand['role']) =>
    input.services.flatMap((s) => Object.entries(s.commands).filter(([, c]) => c.role === role).map(([program, command]) => ({ s, program, command })));

  // Migrations: every service's, before any seed (a seed reads the schema).
  for (const { s, program, command } of commandsOf('migrate')) {
    await step(s.name, async () => {
      if (input.check) {
        // A database not made yet would get every migration; otherwise ask the command which are pending.
        if (freshDatabase.has(s.name)) return note(s.name, 'would apply every migration');
        if (cannotAsk.has(s.name)) return;
        const out = await deps.commands.run(s.name, program, { args: ['status'], env: env(s) });
        const pending = out.lines.filter((l) => /^pending\b/.test(l)).length;
        if (pending) note(s.name, `would apply ${pending} migration(s)`);
        return;
      }
      const out = await deps.commands.run(s.name, program, { args: [...(command.args ?? [])], env: env(s) });
      const applied = reportedChanges(command.reports, out.lines);
      if (applied) note(s.name, `${applied} migration(s) applied`);
    });
  }

  if (input.seed) {
    for (const { s, program, command } of commandsOf('seed')) {
      await step(s.name, async () => {
        // Under check a seed is news only for a database not made yet: seeds keep the rows already
        // there, and an existing database had its seed run by the deploy that made it.
        if (input.check) return freshDatabase.has(s.name) ? note(s.name, `would run ${command.task}`) : undefined;
        const out = await deps.commands.run(s.name, program, { args: [...(command.args ?? [])], env: env(s) });
        if (reportedChanges(command.reports, out.lines)) note(s.name, `${command.task}: ${(out.lines.at(-1) ?? '').replace(/^\w+ seed: /, '')}`);
      });
    }
  }

  if (input.admin) {
    const admin = input.admin;
    for (const { s, program, command } of commandsOf('admin')) {
      await step(s.name, async () => {
        const kept = await deps.secrets.get(admin.secret);
        const account = kept && typeof kept.password === 'string' && kept.email === admin.email ? { email: admin.email, password: kept.password } : undefined;
        if (input.check) {
          if (!account) note(s.name, `would generate the admin password into ${admin.secret}`);
          if (!account || freshDatabase.has(s.name)) note(s.name, `would create the admin account ${admin.email}`);
          return;
        }
        let value = account;
        if (!value) {
          value = { email: admin.email, password: generatePassword() };
          await deps.secrets.put(admin.secret, value);
          note(s.name, `admin password generated into ${admin.secret}`);
        }
        // The password reaches the command in its environment, never on its command line.
        const out = await deps.commands.run(s.name, program, {
          args: [...(command.args ?? []), '--email', value.email, '--name', 'Shop admin'],
          env: env(s, { ADMIN_PASSWORD: value.password }),
        });
        if (reportedChanges(command.reports, out.lines)) note(s.name, `admin ${(out.lines.at(-1) ?? '').replace(/^admin /, '').replace(/ \(id \d+\)/, '')}`);
      });
    }
  }

  return {
    check: input.check,
    services: input.services.map((s) => {
      const what = did.get(s.name)!;
      return { service: s.name, status: what.length ? 'changed' : 'ok', did: what };
    }),
  };
}

/** The database secret's fields the bootstrap needs, or an error naming what is missing. */
function dbSecretFrom(name: string, value: Record<string, unknown> | undefined): ServiceDbSecret {
  if (!value) throw new Error(`its database secret ${name} does not exist`);
  const missing = ['host', 'username', 'password', 'dbname'].filter((k) => typeof value[k] !== 'string' || value[k] === '');
  const port = Number(value.port ?? 3306);
  if (missing.length || !Number.isInteger(port)) throw new Error(`its database secret ${name} lacks ${[...missing, ...(Number.isInteger(port) ? [] : ['port'])].join(', ')}`);
  return { host: String(value.host), port, username: String(value.username), password: String(value.password), dbname: String(value.dbname) };
}
