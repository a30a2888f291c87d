// deploy with an aws inventory: credentials → render and validate → network → database and
// secrets → artifacts bucket and artifacts → load balancer → services (in parallel) and their
// health → static site and assets → monitoring → smoke check through the public URL. Each
// parameter gets the value its renderer declared as input: an output of an earlier stack, a
// service artifact, or a secret. With --limit <service> the shared stacks, secrets and bucket are
// only read, and only that service's artifact and stack change.
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { generateSigningKeys } from '../../../services/kit/auth.js';
import { RefusedError } from '../errors.js';
import { artifactTask } from '../modules/artifact.js';
import { ensureBucket } from '../modules/bucket.js';
import { ReviewLog, type StackDeps, deployStack, executeReviewedStack, readStackOutputs } from '../modules/cloudformation-stack.js';
import { ensureSecret } from '../modules/secret.js';
import { smokeCheck } from '../modules/smoke-check.js';
import { syncStaticAssets } from '../modules/static-assets.js';
import { waitHealthy } from '../modules/wait-healthy.js';
import { reviewDocument } from '../review-format.js';
import { type Play, type TaskOutcome, type TaskSpec, ok, skipped } from '../runner.js';
import { type InputSources, resolveParameters } from '../stacks.js';
import { type InventoryView, type RenderedStack, type TemplateSource, artifactBucketName, stackName } from '../templates.js';
import type { AwsApis } from './aws-apis.js';
import { renderAndValidate } from './template-tasks.js';

export interface AwsDeployConfig {
  inventory: InventoryView;
  source: TemplateSource;
  /** Repository root: artifacts are built from its dist/ and node_modules/. */
  root: string;
  apis: AwsApis;
  /** Secrets to rotate (-e rotate=jwt,service-credential). */
  rotate?: string[];
  staticDir?: string;
  healthTimeoutMs?: number;
  smokeTimeoutMs?: number;
  smokePaths?: string[];
}

const pascal = (s: string): string => s.replace(/(^|-)([a-z])/g, (_m, _d: string, c: string) => c.toUpperCase());

/** The order stacks deploy in; per-service stacks go where 'service-*' stands. */
export const STACK_ORDER = ['network', 'database', 'load-balancer', 'service-*', 'static-site', 'monitoring'];

/** The secrets the playbook creates (the renderers' `{from: 'secret'}` inputs name them). */
const SECRETS: Array<{ key: string; description: string }> = [
  { key: 'jwt', description: 'ES256 key pair the users service signs tokens with' },
  { key: 'service-credential', description: 'token orders presents to inventory' },
  { key: 'jwt-public', description: 'public key every service verifies tokens with' },
];

export async function awsDeploy(play: Play, cfg: AwsDeployConfig): Promise<void> {
  const o = play.options;
  const inv = cfg.inventory;
  const { apis } = cfg;
  const log = new ReviewLog();
  const deps: StackDeps = { cfn: apis.cfn, s3: apis.s3, pollMs: apis.pollMs, log };
  const project = inv.project ?? 'saleday';
  const tags = { Project: project, Environment: inv.environment };
  const services = Object.keys(inv.services);
  const outputs = new Map<string, Record<string, string>>();
  const artifacts = new Map<string, Record<'bucket' | 'key' | 'sha256', string>>();
  const secretArns = new Map<string, string>();
  const sources: InputSources = { outputs: (k) => outputs.get(k), artifact: (s) => artifacts.get(s), secret: (n) => secretArns.get(n) };
  let bucket: string | undefined;
  let bucketReady = false;
  const shared = (spec: TaskSpec): boolean => o.limit !== undefined || play.selected(spec) !== undefined;

  try {
    await play.task({
      name: 'aws credentials',
      tags: ['always'],
      run: async () => {
        await apis.checkCredentials();
        const account = await apis.accountId();
        bucket = artifactBucketName(inv, account);
        return ok(`account ${account}, region ${apis.region}${process.env.AWS_ENDPOINT_URL ? `, endpoint ${process.env.AWS_ENDPOINT_URL}` : ''}`);
      },
    });
    const rendered = await renderAndValidate(play, cfg.source);
    const byKey = new Map(rendered.map((s) => [s.key, s]));
    const unknown = rendered.filter((s) => !STACK_ORDER.includes(s.key) && !s.key.startsWith('service-'));
    if (unknown.length) throw new Error(`no place in the deploy order for stacks ${unknown.map((s) => s.key).join(', ')}`);

    /** The task for one stack; a shared stack left out by --limit or tags is only read for its outputs. */
    const stackTask = (entry: RenderedStack): TaskSpec => {
      const name = stackName(inv, entry);
      const spec: TaskSpec = {
        name: `stack ${entry.key}`,
        tags: ['stacks', entry.key, ...(entry.service ? ['services', entry.service] : ['infra'])],
        ...(entry.service ? { service: entry.service } : {}),
        run: async (ctx) => {
          if (o.executeReviewed) return executeReviewedStack(name, deps, ctx);
          const { values, missing } = resolveParameters(entry.template, entry.inputs ?? {}, sources);
          if (missing.length) {
            const why = `needs ${missing.join(', ')}, not there yet`;
            if (ctx.check) return skipped(`${why} (an earlier stack is not deployed)`);
            throw new RefusedError(`${name} ${why}`);
          }
          const stackTags = { ...tags, ...(entry.service ? { Service: entry.service } : {}) };
          return deployStack({ stackName: name, template: entry.template, parameters: values, tags: stackTags, templateBucket: bucketReady ? bucket : undefined }, deps, ctx);
        },
      };
      if (!entry.service && shared(spec)) return { name: `stack ${entry.key} (outputs)`, tags: ['always'], run: () => readStackOutputs(name, deps) };
      return spec;
    };
    const record = (entry: RenderedStack, outcome: TaskOutcome): void => {
      outputs.set(entry.key, outcome.data ?? {});
    };
    const runStack = async (key: string): Promise<void> => {
      const entry = byKey.get(key);
      if (entry) record(entry, await play.task(stackTask(entry)));
    };

    await runStack('network');

    // The database and the secrets are independent of each other.
    const rotate = new Set(cfg.rotate ?? []);
    const secretTask = (key: string, description: string, generate: () => Promise<string>): TaskSpec => {
      const secretName = `${project}/${inv.environment}/${key}`;
      const spec: TaskSpec = {
        name: `secret ${key}`,
        tags: ['secrets', `secret-${key}`],
        run: (ctx) =>
          ensureSecret({ name: secretName, description, generate, rotate: rotate.has(key) || (key === 'jwt-public' && rotate.has('jwt')), tags, outputName: 'arn' }, apis.secrets, ctx),
      };
      if (!shared(spec)) return spec;
      return {
        name: `secret ${key} (lookup)`,
        tags: ['always'],
        run: async () => {
          const arn = await apis.secrets.describe(secretName);
          if (!arn) throw new RefusedError(`${secretName} does not exist yet: deploy without --limit/--tags first`);
          return ok(`${secretName} exists`, { arn });
        },
      };
    };
    const generators: Record<string, () => Promise<string>> = {
      jwt: async () => JSON.stringify(await generateSigningKeys()),
      'service-credential': () => Promise.resolve(JSON.stringify({ token: randomBytes(32).toString('base64url') })),
      'jwt-public': async () => {
        const pair = JSON.parse(await apis.secrets.getValue(`${project}/${inv.environment}/jwt`)) as { publicKey: string };
        return JSON.stringify({ publicKey: pair.publicKey });
      },
    };
    const secretSpecs = SECRETS.map((s) => secretTask(s.key, s.description, generators[s.key]!));
    const database = byKey.get('database');
    const firstWave = [...(database ? [stackTask(database)] : []), secretSpecs[0]!, secretSpecs[1]!];
    const firstOutcomes = await play.parallel(firstWave);
    if (database) record(database, firstOutcomes[0]!);
    const secretOutcomes = [...firstOutcomes.slice(database ? 1 : 0), await play.task(secretSpecs[2]!)];
    secretOutcomes.forEach((outcome, i) => outcome.data?.arn && secretArns.set(SECRETS[i]!.key, outcome.data.arn));

    // The artifacts bucket, then one artifact per service.
    const bucketSpec: TaskSpec = {
      name: 'artifacts bucket',
      tags: ['artifacts'],
      run: (ctx) => ensureBucket({ bucket: bucket!, region: inv.region, tags }, apis.s3, ctx),
    };
    const bucketOutcome = await play.task(
      shared(bucketSpec)
        ? {
            name: 'artifacts bucket (lookup)',
            tags: ['always'],
            run: async () => {
              if ((await apis.s3.bucketState(bucket!)) !== 'owned') throw new RefusedError(`s3://${bucket} does not exist yet: deploy without --limit/--tags first`);
              return ok(`s3://${bucket} exists`);
            },
          }
        : bucketSpec,
    );
    bucketReady = !(o.check && bucketOutcome.status === 'changed');
    const artifactOutcomes = await play.parallel(
      services.map((service) => ({
        name: `artifact ${service}`,
        service,
        tags: ['artifacts', service],
        run: (ctx) =>
          artifactTask({ service, root: cfg.root, cacheDir: join(cfg.root, 'build/artifacts'), bucket: bucket!, bucketExists: bucketReady, keyPrefix: inv.artifacts?.keyPrefix ?? 'artifacts/' }, apis.s3, ctx),
      })),
    );
    artifactOutcomes.forEach((outcome, i) => {
      const d = outcome.data;
      if (d?.key && d.sha256 && d.bucket) artifacts.set(services[i]!, { bucket: d.bucket, key: d.key, sha256: d.sha256 });
    });

    await runStack('load-balancer');

    const serviceStacks = services.map((s) => byKey.get(`service-${s}`)).filter((e): e is RenderedStack => Boolean(e));
    const serviceOutcomes = await play.parallel(serviceStacks.map(stackTask));
    serviceOutcomes.forEach((outcome, i) => record(serviceStacks[i]!, outcome));
    await play.parallel(
      services.map((service) => ({
        name: `healthy ${service}`,
        service,
        tags: ['services', service, 'health'],
        run: (ctx) => {
          if (ctx.check) return Promise.resolve(skipped('--check: nothing deployed to wait for'));
          const scaling = inv.services[service]?.scaling;
          return waitHealthy(
            {
              service,
              targetGroupArn: outputs.get('load-balancer')?.[`${pascal(service)}TargetGroupArn`],
              minHealthy: scaling?.desired ?? scaling?.min ?? 1,
              timeoutMs: cfg.healthTimeoutMs ?? 15 * 60_000,
              pollMs: apis.pollMs,
            },
            apis.elbv2,
            ctx,
          );
        },
      })),
    );

    await runStack('static-site');
    const site = (): Record<string, string> => outputs.get('static-site') ?? {};
    await play.task({
      name: 'static assets',
      tags: ['static'],
      run: (ctx) => {
        if (o.limit) return Promise.resolve(skipped(`shared: not touched with --limit ${o.limit}`));
        return syncStaticAssets(
          { dir: cfg.staticDir ?? join(cfg.root, 'static'), bucket: site().AssetsBucketName, distributionId: site().DistributionId, prefix: '' },
          apis.s3,
          apis.cloudfront,
          ctx,
        );
      },
    });
    await runStack('monitoring');
    await play.task({
      name: 'smoke check',
      tags: ['smoke'],
      run: (ctx) =>
        smokeCheck({ baseUrl: site().SiteUrl, paths: cfg.smokePaths ?? ['/api/catalog/products'], timeoutMs: cfg.smokeTimeoutMs ?? 10 * 60_000, pollMs: apis.pollMs }, ctx),
    });
    if (site().SiteUrl && !o.check) play.print(`\nThe shop: ${site().SiteUrl}`);
  } finally {
    if (log.kept.length) {
      play.print('\nChange sets kept for --execute-reviewed:');
      for (const k of log.kept) play.print(`  ${k.stackName}: ${k.changeSetName}`);
      play.print('Approve them with: ./playbooks/deploy.mjs -i <inventory> --execute-reviewed');
    }
    if (o.reviewMd) {
      await mkdir(dirname(o.reviewMd), { recursive: true });
      await writeFile(o.reviewMd, reviewDocument(`${project} ${inv.environment}: change-set review`, log.reviews, log.unchanged));
      play.print(`Review written to ${o.reviewMd}`);
    }
  }
}
