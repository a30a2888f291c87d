// deploy with an aws inventory: credentials → render and validate → the deploy order → the stacks,
// wave by wave → smoke check through the public URL. The order is not written down here: a stack
// deploys after every stack whose outputs it takes (the inputs its renderer declares), and the
// stacks of one wave go in parallel. Before a wave comes what its stacks take that is not made yet
// (the shared secrets, the artifacts bucket, the service artifacts); after it, what its stacks make
// possible (each service's health, the static assets). The bootstrap stack goes first in its wave,
// then its function runs (databases, users, migrations, seeds, admin) before the rest of the wave
// (the service stacks) deploys. Each parameter gets the value its renderer
// declared: an output of an earlier stack, a service artifact, or a secret's ARN. With --limit
// <service> the shared stacks, secrets and bucket are only read, and only that service's artifact
// and stack change.
import { randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import {
  BOOTSTRAP, CACHE, CLOUDFRONT_HOSTED_ZONE_ID, CLOUDFRONT_ORIGIN_PREFIX_LIST, deployWaves, LOAD_BALANCER, ORIGIN_HEADER_SECRET, STATIC_SITE, targetGroupArn, uploadsTemplate, type Finding, type OutputRef, type RegionalLookup, type RenderedStack, type SecretStage,
} from '../../../cloudformation/index.js';
import {
  artifactBucketName, settingsOf, SHARED_SECRETS, sharedSecretId, SHOP_SERVICES, type Environment, type ServiceCatalogue, type SharedSecret, type SharedSecretName,
} from '../../../environment/index.js';
import { RefusedError } from '../errors.js';
import { credentialsTask } from '../modules/aws-credentials.js';
import { artifactTask } from '../modules/artifact.js';
import type { BootstrapReport } from '../bootstrap/bootstrap.js';
import { ensureBucket } from '../modules/bucket.js';
import { replicationGroupTokenServer, rotateCacheToken } from '../modules/cache-token-rotation.js';
import { invokeBootstrap, serviceOutcome } from '../modules/database-bootstrap.js';
import { ReviewLog, type StackDeps, deployStack, executeReviewedStack, readStackOutputs } from '../modules/cloudformation-stack.js';
import { type Architecture, latestImageParameter, pinnedImage } from '../modules/pinned-image.js';
import { ensureSecret } from '../modules/secret.js';
import { deriveSecretValue, generateSecretValue, isDerived } from '../modules/secret-values.js';
import { DATABASE_ROTATION, type RotationPlan, planRotation, rotateKeySet, rotationTiming } from '../modules/secret-rotation.js';
import { smokeCheck } from '../modules/smoke-check.js';
import { syncStaticAssets } from '../modules/static-assets.js';
import { waitHealthy } from '../modules/wait-healthy.js';
import { reviewDocument } from '../review-format.js';
import { type Play, type TaskSpec, changed, ok, skipped } from '../runner.js';
import type { StackSource } from '../stack-source.js';
import { type InputSources, resolveParameters } from '../stack-parameters.js';
import type { SecretVersions } from '../aws/secrets.js';
import type { AwsApis } from './aws-apis.js';
import { duringSaleGate, saleEventsUnderWay, warnSaleEvents } from './sale-events.js';
import { templateTasks } from './template-tasks.js';

export interface AwsDeployConfig {
  environment: Environment;
  stacks: StackSource;
  /** Repository root: artifacts are built from its dist/ and node_modules/. */
  root: string;
  apis: AwsApis;
  /** Secrets to rotate (-e rotate=jwt,service-credential). */
  rotate?: string[];
  /** The time of the run (sale events are placed against it); the clock by default. */
  now?: Date | undefined;
  /** The sale event named with -e during-sale=<name>: a deploy during its window goes on. */
  duringSale?: string | undefined;
  /** -e ami=latest: service stacks move to the latest Amazon Linux 2023 AMI (otherwise they keep theirs). */
  imageToLatest?: boolean | undefined;
  staticDir?: string;
  healthTimeoutMs?: number;
  smokeTimeoutMs?: number;
  smokePaths?: string[];
  /** Runs right after the credentials check, before anything changes (the online preflight). */
  afterCredentials?: (() => Promise<void>) | undefined;
  /** The preflight ran and warned about past sale events already. */
  preflightRan?: boolean | undefined;
  /** How a key-set rotation waits between its stages (tests: at once); the clock by default. */
  rotationWait?: ((ms: number) => Promise<void>) | undefined;
}

/** An artifact's fields in this run: only the bucket for an artifact no stack of the run takes more of. */
type ArtifactFields = { bucket: string } & Partial<Record<'key' | 'sha256', string>>;

export async function awsDeploy(play: Play, cfg: AwsDeployConfig): Promise<void> {
  const o = play.options;
  const inv = cfg.environment;
  const { apis } = cfg;
  const log = new ReviewLog();
  const deps: StackDeps = { cfn: apis.cfn, s3: apis.s3, pollMs: apis.pollMs, log };
  const tags = { Project: inv.project, Environment: inv.environment };
  const outputs = new Map<string, Record<string, string>>();
  const artifacts = new Map<string, ArtifactFields>();
  const secretArns = new Map<string, string>();
  const secretVersions = new Map<string, SecretVersions>();
  const lookups = new Map<RegionalLookup, string>();
  const sources: InputSources = {
    outputs: (k) => outputs.get(k),
    artifact: (s) => artifacts.get(s),
    secret: (n) => secretArns.get(n),
    secretVersion: (n, stage: SecretStage) => {
      const v = secretVersions.get(n);
      return v && (stage === 'current' ? v.current : (v.pending ?? ''));
    },
    lookup: (name) => lookups.get(name),
    image: () => undefined,
  };
  // The latest AL2023 AMI per architecture, read once per run.
  const latestImages = new Map<Architecture, Promise<string | undefined>>();
  const latestImage = (a: Architecture): Promise<string | undefined> => {
    if (!latestImages.has(a)) latestImages.set(a, apis.ssm.parameter(latestImageParameter(a)));
    return latestImages.get(a)!;
  };
  const output = (ref: OutputRef): string | undefined => outputs.get(ref.stack)?.[ref.output];
  /** Shared things this run only reads: with --limit, or when --tags/--skip-tags leave the task out. */
  const readOnly = (spec: TaskSpec): boolean => o.limit !== undefined || play.selected(spec) !== undefined;
  let bucket: string | undefined;
  let bucketReady = false;
  // What ran already (a secret or artifact may have no value yet, in --check).
  let bucketDone = false;
  const secretsDone = new Set<SharedSecretName>();
  const artifactsDone = new Set<string>();

  // --- what comes before a wave, made once: shared secrets, the artifacts bucket, artifacts -------

  const rotate = new Set(cfg.rotate ?? []);
  let rotation: RotationPlan | undefined;
  const generator = (secret: SharedSecret): (() => Promise<string>) => {
    const g = secret.generate;
    if (!isDerived(g)) return async () => JSON.stringify(await generateSecretValue(g));
    return async () => JSON.stringify(await deriveSecretValue(g, JSON.parse(await apis.secrets.getValue(secretId(g.from))) as Record<string, unknown>));
  };
  const secretId = (name: SharedSecretName): string => sharedSecretId(inv, name);
  const ownStages = (secret: SharedSecret): boolean => secret.rotation === 'key-set' || secret.rotation === 'cache-token';
  const secretTask = (secret: SharedSecret): TaskSpec => {
    const id = secretId(secret.name);
    const g = secret.generate;
    const spec: TaskSpec = {
      name: `secret ${secret.name}`,
      tags: ['secrets', `secret-${secret.name}`],
      run: (ctx) =>
        ensureSecret(
          {
            // A key set or a cache token rotates in its own stages after the waves; a plain secret here.
            name: id, description: secret.description, generate: generator(secret), rotate: !ownStages(secret) && (rotate.has(secret.name) || (isDerived(g) && rotate.has(g.from) && !ownStages(SHARED_SECRETS[g.from]))),
            staged: secret.rotation === 'staged', tags, outputName: 'arn',
          },
          apis.secrets,
          ctx,
        ),
    };
    if (!readOnly(spec)) return spec;
    return {
      name: `secret ${secret.name} (lookup)`,
      tags: ['always'],
      run: async () => {
        const arn = await apis.secrets.describe(id);
        if (!arn) throw new RefusedError(`${id} does not exist yet: deploy without --limit/--tags first`);
        return ok(`${id} exists`, { arn });
      },
    };
  };
  /** The secrets a wave's stacks take, and the ones those are made from, in batches that can go in parallel. */
  const secretsFor = async (wave: RenderedStack[]): Promise<void> => {
    const wanted = new Set<SharedSecretName>();
    const want = (name: SharedSecretName): void => {
      if (secretsDone.has(name) || wanted.has(name)) return;
      wanted.add(name);
      const g = SHARED_SECRETS[name].generate;
      if (isDerived(g)) want(g.from);
    };
    for (const s of wave) for (const i of Object.values(s.inputs)) if (i.from === 'secret' || i.from === 'secret-version') want(i.secret);
    let pending = Object.values(SHARED_SECRETS).filter((s) => wanted.has(s.name));
    while (pending.length) {
      const batch = pending.filter((s) => !isDerived(s.generate) || secretsDone.has(s.generate.from));
      const outcomes = await play.parallel(batch.map(secretTask));
      batch.forEach((s, i) => {
        secretsDone.add(s.name);
        const arn = outcomes[i]!.data?.arn;
        if (arn) secretArns.set(s.name, arn);
      });
      // Stacks that resolve a secret by version take its version ids (none yet in --check before it exists).
      const versioned = batch.filter((s) => secretArns.has(s.name) && wave.some((w) => Object.values(w.inputs).some((i) => i.from === 'secret-version' && i.secret === s.name)));
      for (const s of versioned) secretVersions.set(s.name, await apis.secrets.versions(secretId(s.name)));
      pending = pending.filter((s) => !batch.includes(s));
    }
  };
  const bucketFor = async (wave: RenderedStack[]): Promise<void> => {
    const needed = wave.some((s) => uploadsTemplate(s.template) || Object.values(s.inputs).some((i) => i.from === 'artifact'));
    if (bucketDone || !needed) return;
    bucketDone = true;
    const spec: TaskSpec = {
      name: 'artifacts bucket',
      tags: ['artifacts'],
      run: (ctx) => ensureBucket({ bucket: bucket!, region: inv.region, tags }, apis.s3, ctx),
    };
    const outcome = await play.task(
      readOnly(spec)
        ? {
            name: 'artifacts bucket (lookup)',
            tags: ['always'],
            run: async () => {
              if ((await apis.s3.bucketState(bucket!)) !== 'owned') throw new RefusedError(`s3://${bucket} does not exist yet: deploy without --limit/--tags first`);
              return ok(`s3://${bucket} exists`);
            },
          }
        : spec,
    );
    bucketReady = !(o.check && outcome.status === 'changed');
  };
  const lookupsFor = async (wave: RenderedStack[]): Promise<void> => {
    const wanted = new Set(wave.flatMap((s) => Object.values(s.inputs).flatMap((i) => (i.from === 'lookup' && !lookups.has(i.lookup) ? [i.lookup] : []))));
    if (wanted.has('cloudfront-origin-prefix-list')) {
      await play.task({
        name: 'cloudfront prefix list',
        tags: ['always'],
        run: async () => {
          const id = await apis.ec2.managedPrefixListId(CLOUDFRONT_ORIGIN_PREFIX_LIST);
          if (!id) throw new RefusedError(`${CLOUDFRONT_ORIGIN_PREFIX_LIST} is not in ${apis.region}: the load balancer could not admit CloudFront only; deploy to a region that has it`);
          lookups.set('cloudfront-origin-prefix-list', id);
          return ok(`${CLOUDFRONT_ORIGIN_PREFIX_LIST}: ${id}`);
        },
      });
    }
  };
  const artifactsFor = async (wave: RenderedStack[]): Promise<void> => {
    const inputs = wave.flatMap((s) => Object.values(s.inputs).flatMap((i) => (i.from === 'artifact' && !artifactsDone.has(i.service) ? [i] : [])));
    // A stack that takes only an artifact's bucket (loadgen: its tasks fetch the harness a rehearsal
    // uploads) needs nothing built: the bucket is the run's.
    for (const i of inputs) {
      if (!inputs.some((j) => j.service === i.service && j.field !== 'bucket')) {
        artifactsDone.add(i.service);
        artifacts.set(i.service, { bucket: bucket! });
      }
    }
    const services = [...new Set(inputs.flatMap((i) => (artifactsDone.has(i.service) ? [] : [i.service])))];
    const outcomes = await play.parallel(
      services.map((service) => ({
        name: `artifact ${service}`,
        service,
        tags: ['artifacts', service],
        run: (ctx) =>
          artifactTask({ service, root: cfg.root, cacheDir: join(cfg.root, 'build/artifacts'), bucket: bucket!, bucketExists: bucketReady, keyPrefix: inv.artifacts.keyPrefix }, apis.s3, ctx),
      })),
    );
    outcomes.forEach((outcome, i) => {
      artifactsDone.add(services[i]!);
      const d = outcome.data;
      if (d?.key && d.sha256 && d.bucket) artifacts.set(services[i]!, { bucket: d.bucket, key: d.key, sha256: d.sha256 });
    });
  };

  // --- the stacks ----------------------------------------------------------------------------------

  /** The task for one stack; a shared stack left out by --limit or tags is only read for its outputs. */
  const stackTask = (entry: RenderedStack): TaskSpec => {
    const name = entry.stackName;
    const spec: TaskSpec = {
      name: `stack ${entry.name}`,
      tags: ['stacks', entry.name, ...(entry.service ? ['services', entry.service] : ['infra'])],
      ...(entry.service ? { service: entry.service } : {}),
      run: async (ctx) => {
        if (o.executeReviewed) return executeReviewedStack(name, deps, ctx);
        const image = Object.entries(entry.inputs).find(([, i]) => i.from === 'image');
        let imageId: string | undefined;
        if (image && image[1].from === 'image') {
          const current = (await apis.cfn.describeStack(name))?.parameters[image[0]] || undefined;
          const choice = await pinnedImage({ architecture: image[1].architecture, pinned: inv.ami, moveToLatest: Boolean(cfg.imageToLatest), current }, latestImage);
          ctx.print(`${name}: AMI ${choice.why}`);
          if (choice.changes) log.notes.push(`${name}: the AMI changes, ${choice.why}.`);
          imageId = choice.imageId;
        }
        const { values, missing } = resolveParameters(entry.template, entry.inputs, { ...sources, image: () => imageId });
        if (missing.length) {
          const why = `needs ${missing.join(', ')}, not there yet`;
          if (ctx.check) return skipped(`${why} (an earlier stack is not deployed)`);
          throw new RefusedError(`${name} ${why}`);
        }
        const stackTags = { ...tags, ...(entry.service ? { Service: entry.service } : {}) };
        return deployStack({ stackName: name, template: entry.template, parameters: values, tags: stackTags, templateBucket: bucketReady ? bucket : undefined }, deps, ctx);
      },
    };
    if (!entry.service && readOnly(spec)) return { name: `stack ${entry.name} (outputs)`, tags: ['always'], run: () => readStackOutputs(name, deps) };
    return spec;
  };

  // --- the database bootstrap: after its stack, before the rest of its wave (the service stacks) ----

  const isBootstrap = (s: RenderedStack): boolean => s.name === BOOTSTRAP.FunctionName.stack;
  const runBootstrap = async (): Promise<void> => {
    let report: BootstrapReport | undefined;
    await play.task({
      name: 'database bootstrap',
      tags: ['database-bootstrap', 'migrations'],
      run: async (ctx) => {
        // It changes every service's database; --limit changes only one service.
        if (o.limit) return skipped(`shared: not run with --limit ${o.limit} (a deploy without --limit runs pending migrations)`);
        const r = await invokeBootstrap({ functionName: output(BOOTSTRAP.FunctionName), rotate: rotation?.databases }, apis.lambda, ctx);
        report = r.report;
        return r.outcome;
      },
    });
    for (const s of report?.services ?? []) {
      await play.task({ name: `bootstrap ${s.service}`, service: s.service, tags: ['database-bootstrap', 'migrations', s.service], run: () => Promise.resolve(serviceOutcome(report, s.service)) });
    }
  };

  // --- what comes after a wave: the services' health, the static assets ----------------------------

  const healthOf = async (wave: RenderedStack[]): Promise<void> => {
    const services = wave.flatMap((s) => (s.service ? [s.service] : []));
    await play.parallel(
      services.map((service) => ({
        name: `healthy ${service}`,
        service,
        tags: ['services', service, 'health'],
        run: (ctx) => {
          if (ctx.check) return Promise.resolve(skipped('--check: nothing deployed to wait for'));
          return waitHealthy(
            {
              service,
              targetGroupArn: output(targetGroupArn(service)),
              minHealthy: settingsOf(inv, service).scaling.desired,
              timeoutMs: cfg.healthTimeoutMs ?? 15 * 60_000,
              pollMs: apis.pollMs,
            },
            apis.elbv2,
            ctx,
          );
        },
      })),
    );
  };
  const staticAssetsAfter = async (wave: RenderedStack[]): Promise<void> => {
    if (!wave.some((s) => s.name === STATIC_SITE.SiteUrl.stack)) return;
    await play.task({
      name: 'static assets',
      tags: ['static'],
      run: (ctx) => {
        if (o.limit) return Promise.resolve(skipped(`shared: not touched with --limit ${o.limit}`));
        return syncStaticAssets(
          { dir: cfg.staticDir ?? join(cfg.root, 'static'), bucket: output(STATIC_SITE.AssetsBucketName), distributionId: output(STATIC_SITE.DistributionId), prefix: '' },
          apis.s3,
          apis.cloudfront,
          ctx,
        );
      },
    });
  };

  // --- key sets (jwt, service-credential): staged, promoted once every instance re-read them ------

  /** A rotation runs in a full deploy only (not with --limit, --tags leaving it out or --execute-reviewed). */
  const rotationTask = async (spec: TaskSpec): Promise<void> => {
    if (o.limit || o.executeReviewed || play.selected(spec) !== undefined) {
      await play.task({ name: spec.name, tags: ['always'], run: () => Promise.resolve(skipped('left for a full deploy (--limit, --tags or --execute-reviewed)')) });
    } else await play.task(spec);
  };

  /** The key sets -e rotate= names, after the waves (the instances that must re-read them run by then). */
  const rotateKeySets = async (): Promise<void> => {
    if (!rotation) return;
    const timing = rotationTiming(inv);
    for (const name of rotation.keySets) {
      const derived = Object.values(SHARED_SECRETS).filter((s) => s.generate.kind === 'public-key-set' && s.generate.from === name);
      const spec: TaskSpec = {
        name: `rotate ${name}`,
        tags: ['secrets', `secret-${name}`],
        run: (ctx) =>
          rotateKeySet(
            { name, label: secretId(name), timing, ...(cfg.rotationWait ? { wait: cfg.rotationWait } : {}) },
            {
              read: async () => JSON.parse(await apis.secrets.getValue(secretId(name))) as Record<string, unknown>,
              // The verifiers' half first: they accept a key before anything is signed with it.
              write: async (value) => {
                for (const d of derived) {
                  if (d.generate.kind === 'public-key-set') await apis.secrets.putValue(secretId(d.name), JSON.stringify(await deriveSecretValue(d.generate, value)), randomUUID());
                }
                await apis.secrets.putValue(secretId(name), JSON.stringify(value), randomUUID());
              },
            },
            ctx,
          ),
      };
      await rotationTask(spec);
    }
  };

  // --- the cache AUTH token: added beside the old one, put in the secret, then the only one ---------

  /** -e rotate=redis-auth, after the waves (the group exists and the users instances run by then). */
  const rotateCacheTokens = async (): Promise<void> => {
    if (!rotation) return;
    const timing = rotationTiming(inv);
    for (const name of rotation.cacheTokens) {
      const spec: TaskSpec = {
        name: `rotate ${name}`,
        tags: ['secrets', `secret-${name}`],
        run: (ctx) => {
          const groupId = output(CACHE.ReplicationGroupId);
          if (!groupId && ctx.check) return Promise.resolve(changed(`would rotate ${secretId(name)} once the cache stack exists`));
          if (!groupId) throw new RefusedError(`${secretId(name)}: the cache stack has no ReplicationGroupId output to rotate the token of`);
          return rotateCacheToken(
            { label: secretId(name), propagationMs: timing.propagationMs, ...(cfg.rotationWait ? { wait: cfg.rotationWait } : {}) },
            {
              read: async () => JSON.parse(await apis.secrets.getValue(secretId(name))) as Record<string, unknown>,
              write: (value) => apis.secrets.putValue(secretId(name), JSON.stringify(value), randomUUID()),
            },
            replicationGroupTokenServer(apis.elasticache, groupId, { pollMs: apis.pollMs, signal: play.signal }),
            ctx,
          );
        },
      };
      await rotationTask(spec);
    }
  };

  // --- the origin header: a staged rotation finishes after the waves ----------------------------------

  /**
   * A rotation left the new value AWSPENDING: the load balancer accepts it beside the current one
   * (the waves deployed it so), CloudFront still sends the current one. Now: make it current and
   * update the static site (CloudFront sends the new value once the update completes, when every
   * edge has it), then update the load balancer (it drops the old value). No request fails between.
   */
  const finishOriginHeaderRotation = async (rendered: RenderedStack[]): Promise<void> => {
    const name = ORIGIN_HEADER_SECRET;
    const v = secretVersions.get(name);
    if (!v?.pending || !v.current) return;
    const site = rendered.find((s) => s.name === STATIC_SITE.SiteUrl.stack);
    const lb = rendered.find((s) => s.name === LOAD_BALANCER.ServiceBaseUrl.stack);
    if (!site || !lb) return;
    const specs: TaskSpec[] = [
      {
        name: 'origin header: CloudFront sends the new value',
        tags: ['secrets', `secret-${name}`],
        run: async (ctx) => {
          if (ctx.check) return skipped('--check: nothing to switch');
          await apis.secrets.promotePending(secretId(name), { current: v.current!, pending: v.pending! });
          secretVersions.set(name, { current: v.pending, pending: undefined });
          return changed(`${secretId(name)}: version ${v.pending} is current now`);
        },
      },
      { ...stackTask(site), name: `stack ${site.name} (new origin header)` },
      { ...stackTask(lb), name: `stack ${lb.name} (old origin header dropped)` },
    ];
    for (const spec of specs) {
      // Reviewed change sets are what was approved: the switch waits for a full deploy, as with --limit.
      if (o.limit || o.executeReviewed || play.selected(spec) !== undefined || o.check) {
        await play.task({ name: spec.name, tags: ['always'], run: () => Promise.resolve(skipped(o.check ? '--check: nothing to switch' : 'left for a full deploy (the next one finishes the rotation)')) });
        continue;
      }
      const outcome = await play.task(spec);
      if (outcome.status === 'failed') return;
    }
  };

  /** Without domain.hostedZoneId nothing creates the DNS records: say which to create. */
  const dnsRecordsNote = (): void => {
    const d = inv.domain;
    if (!d || d.hostedZoneId || o.check) return;
    const distribution = outputs.get(STATIC_SITE.SiteUrl.stack)?.DistributionDomainName;
    const alb = output(LOAD_BALANCER.LoadBalancerDnsName);
    const lines = [
      ...d.aliases.map((a) => `  ${a}  A and AAAA, alias to ${distribution ?? '<static-site output DistributionDomainName>'} (hosted zone ${CLOUDFRONT_HOSTED_ZONE_ID})`),
      ...(d.apiHostname ? [`  ${d.apiHostname}  A, alias to ${alb ?? '<load-balancer output LoadBalancerDnsName>'} (CloudFront's origin: the name on the load balancer certificate)`] : []),
    ];
    if (lines.length) play.print(`\nDNS records to create (no domain.hostedZoneId in the inventory, so no stack makes them):\n${lines.join('\n')}`);
  };

  const findings: Finding[] = [];
  const now = cfg.now ?? new Date();
  // The preflight warns of past and ongoing events already (scaling sanity); without it, say so here.
  if (!cfg.preflightRan) warnSaleEvents(play, inv, now);
  for (const e of saleEventsUnderWay(inv, now)) log.notes.push(`Sale event ${e.name} is under way (until ${e.end}): these changes land on a shop under sale load.`);
  try {
    if (rotate.size) {
      // -e rotate=<names>: an unknown name stops the play before anything changes.
      await play.task({
        name: 'rotation plan',
        tags: ['always'],
        run: () => {
          rotation = planRotation([...rotate], 'aws', Object.keys(inv.services));
          if (rotation.databases.length && o.limit) throw new RefusedError(`-e rotate=${DATABASE_ROTATION}: the database bootstrap rotates the passwords and does not run with --limit; deploy without it`);
          for (const n of rotation.notApplicable) play.print(`  ${n.why}`);
          const what = [...rotation.keySets, ...rotation.cacheTokens, ...rotation.staged, ...rotation.databases.map((s) => `db-${s} (by the database bootstrap)`)];
          return Promise.resolve(ok(`rotating ${what.join(', ') || 'nothing'}`));
        },
      });
    }
    await play.task(credentialsTask(apis, (account) => (bucket = artifactBucketName(inv, account))));
    await cfg.afterCredentials?.();
    await play.task({
      name: 'sale events',
      tags: ['always'],
      run: (ctx) => Promise.resolve(duringSaleGate(inv, now, cfg.duringSale, ctx.check)),
    });
    const rendered = await templateTasks(play, cfg.stacks, { warnings: findings });
    let waves: RenderedStack[][] = [];
    await play.task({
      name: 'deploy order',
      tags: ['always'],
      run: () => {
        waves = deployWaves(rendered);
        return Promise.resolve(ok(`${waves.length} waves: ${waves.map((w) => w.map((s) => s.name).join(', ')).join(' | ')}`));
      },
    });

    for (const wave of waves) {
      await secretsFor(wave);
      await lookupsFor(wave);
      await bucketFor(wave);
      await artifactsFor(wave);
      // The bootstrap stack first, then its function (databases, users, migrations), then the
      // rest of the wave: new instances start on the migrated schema.
      for (const part of [wave.filter(isBootstrap), wave.filter((s) => !isBootstrap(s))]) {
        if (!part.length) continue;
        const outcomes = await play.parallel(part.map(stackTask));
        part.forEach((s, i) => outputs.set(s.name, outcomes[i]!.data ?? {}));
        if (part.some(isBootstrap)) await runBootstrap();
      }
      await healthOf(wave);
      await staticAssetsAfter(wave);
    }

    await rotateKeySets();
    await rotateCacheTokens();
    await finishOriginHeaderRotation(rendered);
    dnsRecordsNote();

    const siteUrl = output(STATIC_SITE.SiteUrl);
    await play.task({
      name: 'smoke check',
      tags: ['smoke'],
      run: (ctx) =>
        smokeCheck({ baseUrl: siteUrl, paths: cfg.smokePaths ?? smokePaths(inv), timeoutMs: cfg.smokeTimeoutMs ?? 10 * 60_000, pollMs: apis.pollMs }, ctx),
    });
    if (siteUrl && !o.check) play.print(`\nThe shop: ${siteUrl}`);
  } finally {
    if (log.kept.length) {
      play.print('\nChange sets kept for --execute-reviewed:');
      for (const k of log.kept) play.print(`  ${k.stackName}: ${k.changeSetName}`);
      play.print('Approve them with: ./playbooks/deploy.mjs -i <inventory> --execute-reviewed');
    }
    if (o.reviewMd) {
      await mkdir(dirname(o.reviewMd), { recursive: true });
      await writeFile(o.reviewMd, reviewDocument(`${inv.project} ${inv.environment}: change-set review`, log.reviews, log.unchanged, findings, log.notes));
      play.print(`Review written to ${o.reviewMd}`);
    }
  }
}

/** The paths the deployed services declare answer 200 once they work. */
function smokePaths(inv: Environment): string[] {
  const declared: ServiceCatalogue = SHOP_SERVICES;
  return declared.flatMap((d) => (d.name in inv.services && d.smokePath ? [d.smokePath] : []));
}
