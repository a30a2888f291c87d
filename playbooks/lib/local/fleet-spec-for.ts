// The fleet spec the local target hands the local cloud for an environment: per declared service,
// its compiled worker program, its environment (references into the secrets file for its database
// and the shared secrets it declares, never values; the gateway's URL for each service it calls,
// as AWS gives it the load balancer's), its artifact (the hash of its compiled code, the shared kit
// and the lockfile, so a change to any of them rolls its workers and nothing else does), its path
// prefix on the gateway and the scaling policy the inventory gives its Auto Scaling group; then
// the gateway and timings.
import { availableParallelism } from 'node:os';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { type Environment, type LocalState, type ServiceCatalogue, SHARED_SECRETS, SHOP_SERVICES, programPath, settingsOf, trustedProxyHops } from '../../../environment/index.js';
import { type FleetSpec, type ScalingPolicy, type ServiceSpec, freePort } from '../../../localcloud/index.js';
import { hashArtifact } from './artifact-hash.js';
import { dbSecretKey, secretRef } from './secrets-file.js';

/** The metric window when the inventory names none (AWS evaluates 1-minute datapoints). */
export const DEFAULT_EVALUATION_SECONDS = 10;

export interface FleetSpecInput {
  environment: Environment;
  /** The services to run (the shop's when not given), each with its settings in the environment. */
  services?: ServiceCatalogue;
  /** Repository root (holds dist/, package-lock.json and static/). */
  root: string;
  /** The local folder: the secrets file the services' references point into. */
  dir: string;
  /** --limit: every other service keeps the code it runs now. */
  limit?: string | undefined;
  /** CPUs of this machine (a group never exceeds local.workersPerCpu per CPU). */
  cpus?: number;
  /** The Redis a service that declares a shared store is given (the shared store task's). */
  sharedStoreUrl?: string | undefined;
}

/** What the spec is built against: the fleet running now, else the state file it left. */
export interface FleetNow {
  state(): Promise<LocalState | undefined>;
  savedState(): Promise<LocalState | undefined>;
}

export async function fleetSpecFor(input: FleetSpecInput, now: FleetNow): Promise<FleetSpec> {
  const { environment: env, root, dir } = input;
  const local = env.local;
  if (!local) throw new Error(`environment ${env.environment} has no local section`);
  const current = await now.state().catch(() => undefined);
  const previous = current ?? (await now.savedState());
  // A free port chosen once stays the shop's port: services that call others are configured with it.
  let port = local.gatewayPort;
  if (port === 0 && previous?.gatewayUrl) port = Number(new URL(previous.gatewayUrl).port);
  if (port === 0) port = await freePort('127.0.0.1');
  const gatewayUrl = `http://127.0.0.1:${port}`;
  const perService = Math.max(1, Math.floor(local.workersPerCpu * (input.cpus ?? availableParallelism())));
  const catalogue: ServiceCatalogue = input.services ?? SHOP_SERVICES;
  const services: Record<string, ServiceSpec> = {};
  for (const declared of catalogue) {
    const { name } = declared;
    const s = settingsOf(env, name);
    const serviceEnv: Record<string, string> = {
      NODE_ENV: 'production',
      DB_SECRET: secretRef(dir, dbSecretKey(name)),
      DB_TLS: 'off',
      // The gateway appends the client's address to X-Forwarded-For (environment/proxy-hops.ts).
      TRUSTED_PROXY_HOPS: String(trustedProxyHops('local')),
      SHUTDOWN_TIMEOUT_MS: String(s.drainSeconds * 1000),
      // Secrets the aws target alone keeps (the cache's AUTH token: the local Redis takes none) are left out.
      ...Object.fromEntries(Object.entries(declared.secrets).filter(([, secret]) => SHARED_SECRETS[secret].only !== 'aws').map(([variable, secret]) => [variable, secretRef(dir, secret)])),
      // As on AWS (ServiceBaseUrl): a service reaches the services it calls through the load balancer.
      ...Object.fromEntries(Object.keys(declared.calls).map((variable) => [variable, gatewayUrl])),
      // Shops sharing the machine's Redis keep their counters apart by project and environment.
      ...(declared.sharedStore && input.sharedStoreUrl
        ? { [declared.sharedStore.url]: input.sharedStoreUrl, [declared.sharedStore.keyPrefix]: `${env.project}:${env.environment}:` }
        : {}),
      ...(s.environment ?? {}),
    };
    const max = Math.max(s.scaling.min, Math.min(s.scaling.max, perService));
    const spec = await localServiceSpec(name, {
      root,
      env: serviceEnv,
      routes: [s.pathPrefix],
      policy: {
        min: s.scaling.min,
        max,
        desired: Math.min(max, s.scaling.desired),
        cpuTarget: s.scaling.cpuTarget,
        requestsPerTarget: s.scaling.requestsPerTarget,
        warmupSeconds: s.scaling.warmupSeconds,
        cooldownSeconds: s.scaling.cooldownSeconds,
        evaluationSeconds: local.evaluationSeconds ?? DEFAULT_EVALUATION_SECONDS,
      },
    });
    const running = current?.services[name]?.artifact;
    if (input.limit !== undefined && input.limit !== name && running) spec.artifact = running;
    services[name] = spec;
  }
  const settings = catalogue.map((d) => settingsOf(env, d.name));
  const drainSeconds = Math.max(...settings.map((s) => s.drainSeconds));
  const startSeconds = Math.max(...settings.map((s) => s.healthCheckGracePeriod));
  return {
    gateway: { port, staticDir: join(root, 'static') },
    services,
    tuning: { drainSeconds, startSeconds: Math.max(1, startSeconds) },
  };
}

export interface LocalServiceInput {
  /** Repository root (holds dist/ and package-lock.json). */
  root: string;
  /** The service's environment (secret references, URLs, log level); PORT and HOST are the fleet's. */
  env: Record<string, string>;
  policy: ScalingPolicy;
  routes?: string[];
}

/** One service of this repository as a fleet entry: its compiled program and artifact hash. */
export async function localServiceSpec(name: string, input: LocalServiceInput): Promise<ServiceSpec> {
  const root = resolve(input.root);
  const program = join(root, programPath(name));
  if (!existsSync(program)) throw new Error(`${program} is missing: build first (npm run build)`);
  // Its compiled folder, the compiled kit every service shares (laid out like a service's), the lockfile.
  const parts = [dirname(program), dirname(join(root, programPath('kit'))), join(root, 'package-lock.json')].filter((p) => existsSync(p));
  return {
    program,
    env: input.env,
    artifact: await hashArtifact(parts, root),
    policy: input.policy,
    ...(input.routes ? { routes: input.routes } : {}),
  };
}
