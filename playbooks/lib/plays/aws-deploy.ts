// deploy with an aws inventory: credentials → render and validate → network → database and
// secrets → artifacts bucket and artifacts → load balancer → services (in parallel) and their
// health → static site and assets → monitoring → smoke check through the public URL. Outputs of
// one stack become parameters of the next (matched by name). With --limit <service> the shared
// stacks are only read for their outputs, and only that service's artifact and stack change.
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { generateSigningKeys } from '../../../services/kit/auth.js';
import { RefusedError } from '../errors.js';
import { artifactTask } from '../modules/artifact.js';
import { ReviewLog, type StackDeps, deployStack, executeReviewedStack, readStackOutputs } from '../modules/cloudformation-stack.js';
import { ensureSecret } from '../modules/secret.js';
import { smokeCheck } from '../modules/smoke-check.js';
import { syncStaticAssets } from '../modules/static-assets.js';
import { waitHealthy } from '../modules/wait-healthy.js';
import { reviewDocument } from '../review-format.js';
import { type Play, type TaskOutcome, type TaskSpec, ok, skipped } from '../runner.js';
import { resolveParameters } from '../stacks.js';
import { type InventoryView, type RenderedStack, type TemplateSource, stackName } from '../templates.js';
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

const capital = (s: string): string => s.replace(/(^|-)([a-z])/g, (_m, _d: string, c: string) => c.toUpperCase());

/** The order stacks deploy in; per-service stacks go where 'service-*' stands. */
export const STACK_ORDER = ['network', 'database', 'artifacts', 'load-balancer', 'service-*', 'static-site', 'monitoring'];

export async function awsDeploy(play: Play, cfg: AwsDeployConfig): Promise<void> {
  const o = play.options;
  const inv = cfg.inventory;
  const { apis } = cfg;
  const log = new ReviewLog();
  const deps: StackDeps = { cfn: apis.cfn, s3: apis.s3, pollMs: apis.pollMs, log };
  const project = inv.project ?? 'saleday';
  const services = Object.keys(inv.services);
  /** Values later stacks take as parameters: outputs of shared stacks, secret ARNs, the artifacts bucket. */
  const known: Record<string, string> = { Environment: inv.environment, Project: project };
  const perService: Record<string, Record<string, string>> = Object.fromEntries(services.map((s) => [s, {}]));
  const register = (outcome: TaskOutcome, service?: string): void => {
    if (!outcome.data) return;
    Object.assign(service ? perService[service]! : known, outcome.data);
  };

  try {
    await play.task({
      name: 'aws credentials',
      tags: ['always'],
      run: async () => {
        await apis.checkCredentials();
        return ok(`found (region ${apis.region}${process.env.AWS_ENDPOINT_URL ? `, endpoint ${process.env.AWS_ENDPOINT_URL}` : ''})`);
      },
    });
    const rendered = await renderAndValidate(play, cfg.source);
    const byKey = new Map(rendered.map((s) => [s.key, s]));
    const unknown = rendered.filter((s) => !STACK_ORDER.includes(s.key) && !s.key.startsWith('service-'));
    if (unknown.length) throw new Error(`no place in the deploy order for stacks ${unknown.map((s) => s.key).join(', ')}`);

    /** The task for one stack, or a read of its outputs when tags or --limit leave it out. */
    const stackTask = (entry: RenderedStack): TaskSpec => {
      const name = stackName(inv, entry.key);
      const spec: TaskSpec = {
        name: `stack ${entry.key}`,
        tags: ['stacks', entry.key, ...(entry.service ? ['services', entry.service] : ['infra'])],
        ...(entry.service ? { service: entry.service } : {}),
        run: async (ctx) => {
          if (o.executeReviewed) return executeReviewedStack(name, deps, ctx);
          const explicit = entry.service ? perService[entry.service] : {};
          const { values, missing } = resolveParameters(entry.template, { ...known, ...explicit }, {});
          if (missing.length) {
            const why = `needs ${missing.join(', ')} from a stack that is not deployed yet`;
            if (ctx.check) return skipped(why);
            throw new RefusedError(`${name} ${why}`);
          }
          return deployStack(
            { stackName: name, template: entry.template, parameters: values, tags: { project, environment: inv.environment, ...(entry.service ? { service: entry.service } : {}) }, templateBucket: known.ArtifactBucket },
            deps,
            ctx,
          );
        },
      };
      // Shared stacks are only read with --limit (and when tags leave them out): later stacks need their outputs.
      if (!entry.service && (o.limit !== undefined || play.selected(spec))) {
        return { name: `stack ${entry.key} (outputs)`, tags: ['always'], run: () => readStackOutputs(name, deps) };
      }
      return spec;
    };
    const runStack = async (key: string): Promise<void> => {
      const entry = byKey.get(key);
      if (entry) register(await play.task(stackTask(entry)), entry.service);
    };

    await runStack('network');

    // Database and secrets are independent of each other.
    const rotate = new Set(cfg.rotate ?? []);
    const secretTask = (key: string, outputName: string, description: string, generate: () => Promise<string>): TaskSpec => {
      const secretName = `${project}/${inv.environment}/${key}`;
      const spec: TaskSpec = {
        name: `secret ${key}`,
        tags: ['secrets', `secret-${key}`],
        run: (ctx) =>
          ensureSecret(
            { name: secretName, description, generate, rotate: rotate.has(key) || (key === 'jwt-public' && rotate.has('jwt')), tags: { project, environment: inv.environment }, outputName },
            apis.secrets,
            ctx,
          ),
      };
      if (!o.limit && !play.selected(spec)) return spec;
      // Shared: with --limit, or left out by tags, a secret is only looked up (its ARN is a parameter).
      return {
        name: `secret ${key} (lookup)`,
        tags: ['always'],
        run: async () => {
          const arn = await apis.secrets.describe(secretName);
          if (!arn) throw new RefusedError(`${secretName} does not exist yet: deploy without --limit/--tags first`);
          return ok(`${secretName} exists`, { [outputName]: arn });
        },
      };
    };
    const first: TaskSpec[] = [
      secretTask('jwt', 'JwtSigningSecretArn', 'ES256 key pair the users service signs tokens with', async () => JSON.stringify(await generateSigningKeys())),
      secretTask('service-credential', 'ServiceCredentialSecretArn', 'token orders presents to inventory', async () => JSON.stringify({ token: randomBytes(32).toString('base64url') })),
    ];
    const database = byKey.get('database');
    if (database) first.unshift(stackTask(database));
    const firstOutcomes = await play.parallel(first);
    firstOutcomes.forEach((outcome) => register(outcome));
    register(
      await play.task(
        secretTask('jwt-public', 'JwtVerifySecretArn', 'public key every service verifies tokens with', async () => {
          const pair = JSON.parse(await apis.secrets.getValue(`${project}/${inv.environment}/jwt`)) as { publicKey: string };
          return JSON.stringify({ publicKey: pair.publicKey });
        }),
      ),
    );

    await runStack('artifacts');
    const artifacts = await play.parallel(
      services.map((service) => ({
        name: `artifact ${service}`,
        service,
        tags: ['artifacts', service],
        run: (ctx) => artifactTask({ service, root: cfg.root, cacheDir: join(cfg.root, 'build/artifacts'), bucket: known.ArtifactBucket }, apis.s3, ctx),
      })),
    );
    artifacts.forEach((outcome, i) => register(outcome, services[i]));

    await runStack('load-balancer');

    const serviceStacks = services.map((s) => byKey.get(`service-${s}`)).filter((e): e is RenderedStack => Boolean(e));
    const outcomes = await play.parallel(serviceStacks.map(stackTask));
    outcomes.forEach((outcome, i) => register(outcome, serviceStacks[i]!.service));
    await play.parallel(
      services.map((service) => ({
        name: `healthy ${service}`,
        service,
        tags: ['services', service, 'health'],
        run: (ctx) => {
          if (ctx.check) return Promise.resolve(skipped('--check: nothing deployed to wait for'));
          const s = inv.services[service];
          return waitHealthy(
            {
              service,
              targetGroupArn: perService[service]!.TargetGroupArn ?? known[`${capital(service)}TargetGroupArn`],
              minHealthy: s?.desired ?? s?.min ?? 1,
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
    await play.task({
      name: 'static assets',
      tags: ['static'],
      run: (ctx) => {
        if (o.limit) return Promise.resolve(skipped(`shared: not touched with --limit ${o.limit}`));
        return syncStaticAssets(
          { dir: cfg.staticDir ?? join(cfg.root, 'static'), bucket: known.StaticBucketName ?? known.StaticBucket, distributionId: known.DistributionId, prefix: '' },
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
      run: (ctx) => {
        const url = known.PublicUrl ?? known.SiteUrl ?? (known.DistributionDomainName ? `https://${known.DistributionDomainName}` : undefined);
        return smokeCheck({ baseUrl: url, paths: cfg.smokePaths ?? ['/', '/api/catalog/products'], timeoutMs: cfg.smokeTimeoutMs ?? 10 * 60_000, pollMs: apis.pollMs }, ctx);
      },
    });
    const url = known.PublicUrl ?? known.SiteUrl;
    if (url && !o.check) play.print(`\nThe shop: ${url}`);
  } finally {
    if (log.kept.length) {
      play.print('\nChange sets kept for --execute-reviewed:');
      for (const k of log.kept) play.print(`  ${k.stackName}: ${k.changeSetName}`);
      play.print(`Approve them with: ./playbooks/deploy.mjs -i <inventory> --execute-reviewed`);
    }
    if (o.reviewMd) {
      await mkdir(dirname(o.reviewMd), { recursive: true });
      await writeFile(o.reviewMd, reviewDocument(`saleday ${inv.environment}: change-set review`, log.reviews, log.unchanged));
      play.print(`Review written to ${o.reviewMd}`);
    }
  }
}
