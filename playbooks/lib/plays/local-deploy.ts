// The local target: deploy, status and destroy on this machine. The same playbook as for AWS, with
// the local target's modules (playbooks/lib/local/modules/) where AWS has CloudFormation:
//   render + validate templates → build → database server → secrets file → shared store (Redis) →
//   per service: database and user, migrations → seeds → admin account → supervisor → fleets and
//   gateway → smoke check.
// The shop then runs in the local cloud (localcloud/), which outlives this run; its files live in
// the local folder, .saleday/local/ (SALEDAY_LOCAL_DIR moves it, for tests).
import { type Environment, type ServiceCatalogue, SHARED_SECRETS, SHOP_SERVICES } from '../../../environment/index.js';
import { DEFAULT_ADMIN_EMAIL } from '../bootstrap/bootstrap.js';
import { RefusedError } from '../errors.js';
import { fleetSpecFor } from '../local/fleet-spec-for.js';
import { localApis } from '../local/local-apis.js';
import { ensureBuilt } from '../local/modules/build.js';
import { type DatabaseServer, DEFAULT_MYSQL_URL, ensureDatabaseServer, stopDatabaseServer } from '../local/modules/database-server.js';
import { applyFleetSpec, stopFleet } from '../local/modules/fleet.js';
import { fleetStatus } from '../local/modules/fleet-status.js';
import { type CommandArgs, type DeclaredCommand, declaredCommands, ensureAdminAccount, runMigrations, runSeed } from '../local/modules/operator-commands.js';
import { ADMIN_SECRET, ensureSecretsFile } from '../local/modules/secrets-file.js';
import { ensureServiceDatabase, rotateServiceDatabase } from '../local/modules/service-database.js';
import { ensureSharedStore, stopSharedStore } from '../local/modules/shared-store.js';
import { type KeySetName, type RotationPlan, planRotation, rotateKeySet, rotationTiming } from '../modules/secret-rotation.js';
import { deriveSecretValue } from '../modules/secret-values.js';
import { localSmokeCheck } from '../local/modules/smoke-check.js';
import { ensureSupervisor } from '../local/modules/supervisor.js';
import { SecretsFile, secretsPath } from '../local/secrets-file.js';
import { commandEnv } from '../local/service-command.js';
import { ok } from '../runner.js';
import type { TargetRun } from '../targets.js';
import { offlinePreflightFirst } from './preflight.js';
import { templateTasks } from './template-tasks.js';

/** The admin account of the local shop (the same as on AWS); its password is generated into the secrets file. */
export const ADMIN_EMAIL = DEFAULT_ADMIN_EMAIL;

export async function deploy(run: TargetRun): Promise<void> {
  const { play, root } = run;
  const env = localEnvironment(run);
  const api = localApis(root);
  const catalogue: ServiceCatalogue = SHOP_SERVICES;
  const services = catalogue.map((d) => d.name);
  const names = { project: env.project, environment: env.environment };

  // -e rotate=<names>: refused before anything changes when a name is unknown.
  let rotation: RotationPlan | undefined;
  if (run.rotate.length) {
    await play.task({
      name: 'rotation plan',
      tags: ['always'],
      run: () => {
        rotation = planRotation(run.rotate, 'local', services);
        const what = [...rotation.keySets, ...rotation.databases.map((s) => `db-${s}`)];
        for (const n of rotation.notApplicable) play.print(`  ${n.why}`);
        return Promise.resolve(ok(what.length ? `rotating ${what.join(', ')} after the fleets are up` : 'nothing to rotate here'));
      },
    });
  }
  await offlinePreflightFirst(run);
  await templateTasks(play, run.stacks);
  await play.task({ name: 'build services', tags: ['build'], run: (ctx) => ensureBuilt({ root }, api.build, ctx) });

  let server: DatabaseServer | undefined;
  await play.task({
    name: 'database server',
    tags: ['database'],
    run: async (ctx) => {
      const url = process.env.MYSQL_URL ?? env.local.mysqlUrl ?? DEFAULT_MYSQL_URL;
      const found = await ensureDatabaseServer({ dir: api.dir, url }, { mysql: api.mysql, secrets: await api.secrets() }, ctx);
      server = found.server;
      return found.outcome;
    },
  });
  await play.task({ name: 'secrets file', tags: ['secrets'], run: async (ctx) => ensureSecretsFile({ adminEmail: ADMIN_EMAIL }, await api.secrets(), ctx) });
  let sharedStoreUrl: string | undefined;
  await play.task({
    name: 'shared store',
    tags: ['fleet'],
    run: async (ctx) => {
      const found = await ensureSharedStore({ dir: api.dir }, { redis: api.redis, secrets: await api.secrets() }, ctx);
      sharedStoreUrl = found.url;
      return found.outcome;
    },
  });

  for (const service of services) {
    await play.task({
      name: `database ${service}`,
      service,
      tags: ['database', service],
      run: async (ctx) => ensureServiceDatabase({ ...names, service, server }, { mysql: api.mysql, secrets: await api.secrets() }, ctx),
    });
  }

  // The services' declared operator commands, by role: every migration, then seeds, then the admin.
  const commandArgs = (c: DeclaredCommand): CommandArgs => ({ ...c, env: commandEnv(api.dir, c.service), server });
  for (const c of declaredCommands(catalogue, 'migrate')) {
    await play.task({ name: c.command.task, service: c.service, tags: ['migrations', c.service], run: (ctx) => runMigrations(commandArgs(c), api.commands, ctx) });
  }
  for (const c of declaredCommands(catalogue, 'seed')) {
    await play.task({ name: c.command.task, service: c.service, tags: ['seed', c.service], run: (ctx) => runSeed(commandArgs(c), api.commands, ctx) });
  }
  for (const c of declaredCommands(catalogue, 'admin')) {
    await play.task({
      name: c.command.task,
      service: c.service,
      tags: ['seed', c.service],
      run: async (ctx) => ensureAdminAccount(commandArgs(c), { commands: api.commands, secrets: await api.secrets() }, ctx),
    });
  }

  await play.task({ name: 'fleet supervisor', tags: ['fleet'], run: (ctx) => ensureSupervisor(api.fleet, ctx) });
  const fleet = await play.task({
    name: 'fleets and gateway',
    tags: ['fleet', ...services],
    run: async (ctx) => applyFleetSpec({ spec: await fleetSpecFor({ environment: env, services: catalogue, root, dir: api.dir, limit: play.options.limit, sharedStoreUrl }, api.fleet) }, api.fleet, ctx),
  });
  if (rotation) await rotateLocalSecrets(run, rotation, { dir: api.dir, server, names, api });
  const gatewayUrl = fleet.data?.gatewayUrl ?? '';
  await play.task({
    name: 'smoke check',
    tags: ['smoke'],
    run: (ctx) =>
      localSmokeCheck(
        {
          gatewayUrl,
          paths: [...catalogue.flatMap((d) => (d.smokePath ? [d.smokePath] : [])), '/'],
          banner:
            `\nThe shop runs at ${gatewayUrl}  (admin ${ADMIN_EMAIL}: password in ${secretsPath(api.dir)} under "${ADMIN_SECRET}")\n` +
            `  ./playbooks/status.mjs     fleet sizes and scaling activity\n  ./playbooks/destroy.mjs    stop everything\n`,
        },
        ctx,
      ),
  });
}

/**
 * The rotations asked for, with the shop running: each key set in its stages (secret-rotation.ts),
 * each database password by alternating users. The services re-read the file: nothing restarts.
 */
async function rotateLocalSecrets(
  run: TargetRun,
  plan: RotationPlan,
  c: { dir: string; server: DatabaseServer | undefined; names: { project: string; environment: string }; api: ReturnType<typeof localApis> },
): Promise<void> {
  const timing = rotationTiming(run.environment);
  const path = secretsPath(c.dir);
  for (const name of plan.keySets) {
    await run.play.task({
      name: `rotate ${name}`,
      tags: ['secrets', `secret-${name}`],
      run: (ctx) => rotateKeySet({ name, label: `${path}#${name}`, timing }, keySetInFile(c.dir, name), ctx),
    });
  }
  for (const service of plan.databases) {
    await run.play.task({
      name: `rotate db-${service}`,
      service,
      tags: ['secrets', 'database', service],
      run: async (ctx) => rotateServiceDatabase({ ...c.names, service, server: c.server }, { mysql: c.api.mysql, secrets: await SecretsFile.load(c.dir) }, ctx),
    });
  }
}

/** A key set in the secrets file; jwt-public is written with jwt (the verifiers' half first). */
function keySetInFile(dir: string, name: KeySetName): { read(): Promise<Record<string, unknown>>; write(v: Record<string, unknown>): Promise<void> } {
  const derived = Object.values(SHARED_SECRETS).filter((s) => s.generate.kind === 'public-key-set' && s.generate.from === name);
  return {
    read: async () => {
      const value = (await SecretsFile.load(dir)).get<Record<string, unknown>>(name);
      if (!value) throw new Error(`${secretsPath(dir)} has no ${name} yet: deploy once before rotating`);
      return value;
    },
    write: async (value) => {
      const file = await SecretsFile.load(dir);
      file.set(name, value);
      for (const d of derived) if (d.generate.kind === 'public-key-set') file.set(d.name, await deriveSecretValue(d.generate, value));
      await file.save();
    },
  };
}

export async function status(run: TargetRun): Promise<void> {
  const api = localApis(run.root);
  await run.play.task({ name: 'fleet status', tags: ['always'], run: (ctx) => fleetStatus(api, ctx) });
}

export async function destroy(run: TargetRun): Promise<void> {
  const api = localApis(run.root);
  await run.play.task({ name: 'stop fleets and gateway', tags: ['fleet'], run: (ctx) => stopFleet(api.fleet, ctx) });
  await run.play.task({ name: 'stop private database server', tags: ['database'], run: (ctx) => stopDatabaseServer({ dir: api.dir }, api, ctx) });
  await run.play.task({ name: 'stop private redis-server', tags: ['fleet'], run: (ctx) => stopSharedStore(api, ctx) });
}

/** The environment, with the local section the local target needs. */
function localEnvironment(run: TargetRun): Environment & { local: NonNullable<Environment['local']> } {
  const env = run.environment;
  const { local } = env;
  if (!local) throw new RefusedError(`${run.inventoryFile}: target local needs a local section (gatewayPort, workersPerCpu)`);
  return { ...env, local };
}
