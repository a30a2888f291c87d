// The database bootstrap as a Lambda function (cloudformation/bootstrap.ts renders it in the private
// app subnets): its environment names the server and the secrets, as references, never values; the
// event says only whether to check. Returns the bootstrap's report; a failure is thrown, so the
// invocation ends with a FunctionError whose errorMessage names the service and what went wrong
// (never a secret value). The service commands run from the artifact as child processes, with the
// function's AWS credentials.
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SHOP_SERVICES } from '../../../environment/index.js';
import { parseSecretRef } from '../../../services/kit/secrets.js';
import { serviceCommands } from '../local/service-command.js';
import { awsSecretStore } from './aws-secret-store.js';
import { type BootstrapInput, type BootstrapReport, DEFAULT_ADMIN_EMAIL, bootstrap } from './bootstrap.js';

export interface BootstrapEvent {
  /** Change nothing; report what would be done. */
  check?: boolean;
  /** Services whose database password rotates (-e rotate=database). */
  rotate?: string[];
}

type Env = Record<string, string | undefined>;

const required = (env: Env, name: string): string => {
  const v = env[name];
  if (!v) throw new Error(`${name} is not set in the function's environment: deploy the bootstrap stack again`);
  return v;
};

/** The secret id an `aws:<id>` reference names. */
const awsId = (env: Env, name: string, value = required(env, name)): string => {
  const ref = parseSecretRef(value);
  if (ref.backend !== 'aws') throw new Error(`${name} must be an aws:<secret-id> reference`);
  return ref.secretId;
};

/** The bootstrap's input from the function's environment and the event (master password read here). */
export async function inputFrom(env: Env, event: BootstrapEvent, readSecret: (id: string) => Promise<Record<string, unknown> | undefined>): Promise<BootstrapInput> {
  const secrets = new Map(
    required(env, 'SERVICE_DB_SECRETS').split(',').map((pair) => {
      const i = pair.indexOf('=');
      return [pair.slice(0, i), awsId(env, 'SERVICE_DB_SECRETS', pair.slice(i + 1))] as const;
    }),
  );
  const masterId = awsId(env, 'DB_MASTER_SECRET');
  const master = await readSecret(masterId);
  if (!master || typeof master.username !== 'string' || typeof master.password !== 'string') throw new Error(`the master secret ${masterId} has no username and password`);
  // The credentials the function runs with, passed on to the service commands (they read their secrets with them).
  const aws = Object.fromEntries(
    ['AWS_REGION', 'AWS_DEFAULT_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_ENDPOINT_URL'].flatMap((k) => (env[k] ? [[k, env[k]]] : [])),
  );
  return {
    master: { host: required(env, 'DB_HOST'), port: Number(required(env, 'DB_PORT')), user: master.username, password: master.password, tls: 'auto' },
    services: SHOP_SERVICES.filter((d) => secrets.has(d.name)).map((d) => ({ name: d.name, secret: secrets.get(d.name)!, commands: d.commands })),
    seed: env.SEED === 'true',
    admin: { secret: awsId(env, 'ADMIN_SECRET'), email: env.ADMIN_EMAIL ?? DEFAULT_ADMIN_EMAIL },
    userHosts: ['%'],
    requireSsl: true,
    check: event.check === true,
    commandEnv: aws,
    rotate: Array.isArray(event.rotate) ? event.rotate.filter((x): x is string => typeof x === 'string') : undefined,
  };
}

export async function handler(event: BootstrapEvent | null | undefined): Promise<BootstrapReport> {
  const env = process.env;
  const tags = { Project: env.PROJECT ?? '', Environment: env.ENVIRONMENT ?? '', Service: 'bootstrap' };
  const secrets = awsSecretStore(new SecretsManagerClient({}), { tags, description: () => 'The shop admin account {email, password}, kept by the database bootstrap' });
  const input = await inputFrom(env, event ?? {}, (id) => secrets.get(id));
  return bootstrap(input, { secrets, commands: serviceCommands(env.LAMBDA_TASK_ROOT ?? process.cwd()) });
}
