// The generators' place on AWS: the loadgen stack (reviewed as a change set and deployed like every
// other stack) and the harness artifact in the artifacts bucket. `./loadtest/run.mjs --on aws`
// calls prepareLoadgen before it launches tasks. A play like deploy's, with its modules: the
// credentials, the templates rendered and validated, the artifacts bucket, the harness artifact
// (uploaded only when absent), the outputs of the stacks loadgen takes (the network), then the
// loadgen stack through deployStack (a change set without changes is deleted, nothing executed).
// Deploy puts the same stack up with the shop (cloudformation/README.md, "The loadgen stack"), so
// after a deploy this finds it unchanged.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline/promises';
import { LOADGEN, LOADGEN_ARTIFACT, LOADGEN_CONTAINER, LOADGEN_RESULTS_PREFIX, type RenderedStack } from '../../../cloudformation/index.js';
import { artifactBucketName, loadEnvironment, type Environment } from '../../../environment/index.js';
import type { LoadgenPlacement, PrepareLoadgenOptions } from '../../../loadtest/lib/generators/placement.js';
import { AwsClients, type AwsSettings } from '../aws/clients.js';
import { parseCli } from '../cli.js';
import { RefusedError } from '../errors.js';
import { artifactTask } from '../modules/artifact.js';
import { credentialsTask } from '../modules/aws-credentials.js';
import { ensureBucket } from '../modules/bucket.js';
import { ReviewLog, deployStack, readStackOutputs, type StackDeps } from '../modules/cloudformation-stack.js';
import { Output } from '../output.js';
import { EXIT, runPlay, type Play } from '../runner.js';
import { renderedStacks } from '../stack-source.js';
import { resolveParameters } from '../stack-parameters.js';
import { awsApis, type AwsApis } from './aws-apis.js';
import { templateTasks } from './template-tasks.js';

/** What prepareLoadgen runs with besides the launcher's options: real ones by default, tests give their own. */
export interface LoadgenDeps {
  /** Repository root: the harness artifact is built from its dist/ and node_modules/ (default: found from this file). */
  root?: string;
  aws?: Partial<AwsSettings>;
}

export async function prepareLoadgen(opts: PrepareLoadgenOptions, deps: LoadgenDeps = {}): Promise<LoadgenPlacement> {
  const root = deps.root ?? repositoryRoot();
  let environment: Environment;
  try {
    environment = await loadEnvironment(opts.inventoryFile);
  } catch (err) {
    throw new RefusedError(`${opts.inventoryFile}: ${(err as Error).message}`);
  }
  if (environment.target !== 'aws') throw new RefusedError(`${opts.inventoryFile} is a ${environment.target} inventory: generators run on AWS only for an aws inventory`);
  // --region: the loadgen stack, its artifacts bucket and its tasks in another region than the inventory's.
  if (opts.region) environment = { ...environment, region: opts.region };
  const options = parseCli(['-i', opts.inventoryFile, ...(opts.yes ? ['--yes'] : [])], 'deploy');
  const output = new LineOutput(opts.line);
  const clients = new AwsClients({ region: environment.region, ...deps.aws });
  let placement: LoadgenPlacement | undefined;
  const code = await runPlay({ playbook: 'loadgen', title: `loadgen ${environment.environment} · aws ${environment.region}`, options, output }, async (play) => {
    placement = await loadgenPlay(play, { environment, root, apis: awsApis(clients, play) });
  });
  if (code !== EXIT.ok || !placement) {
    throw new RefusedError(`the loadgen stack is not ready (exit ${code}): see the failed task above; nothing was launched`);
  }
  return placement;
}

export interface LoadgenPlayConfig {
  environment: Environment;
  root: string;
  apis: AwsApis;
}

/** The play: what deploy does for one stack and its artifact, with the placement at the end. */
export async function loadgenPlay(play: Play, cfg: LoadgenPlayConfig): Promise<LoadgenPlacement> {
  const inv = cfg.environment;
  const { apis } = cfg;
  const deps: StackDeps = { cfn: apis.cfn, s3: apis.s3, pollMs: apis.pollMs, log: new ReviewLog() };
  // The tags deploy gives a shared stack: the same change set either way.
  const tags = { Project: inv.project, Environment: inv.environment };
  let bucket = '';
  await play.task(credentialsTask(apis, (account) => (bucket = artifactBucketName(inv, account))));
  const rendered = await templateTasks(play, renderedStacks(inv, cfg.root, { now: new Date() }));
  const loadgen = rendered.find((s) => s.name === LOADGEN.ClusterName.stack);
  if (!loadgen) throw new RefusedError(`no ${LOADGEN.ClusterName.stack} stack is registered for ${inv.environment}`);
  await play.task({ name: 'artifacts bucket', tags: ['artifacts'], run: (ctx) => ensureBucket({ bucket, region: inv.region, tags }, apis.s3, ctx) });
  const artifact = await play.task({
    name: `artifact ${LOADGEN_ARTIFACT}`,
    tags: ['artifacts'],
    run: (ctx) => artifactTask({ service: LOADGEN_ARTIFACT, root: cfg.root, cacheDir: join(cfg.root, 'build/artifacts'), bucket, bucketExists: true, keyPrefix: inv.artifacts.keyPrefix }, apis.s3, ctx),
  });
  const outputs = new Map<string, Record<string, string>>();
  for (const name of stacksTakenBy(loadgen)) {
    const stackName = rendered.find((s) => s.name === name)?.stackName ?? name;
    const read = await play.task({
      name: `stack ${name} (outputs)`,
      tags: ['always'],
      run: async () => {
        try {
          return await readStackOutputs(stackName, deps);
        } catch (err) {
          if (err instanceof RefusedError) throw new RefusedError(`${stackName} is not deployed: deploy the environment first (./playbooks/deploy.mjs -i <inventory>)`);
          throw err;
        }
      },
    });
    outputs.set(name, read.data ?? {});
  }
  const stack = await play.task({
    name: `stack ${loadgen.name}`,
    tags: ['stacks', loadgen.name, 'infra'],
    run: async (ctx) => {
      const { values, missing } = resolveParameters(loadgen.template, loadgen.inputs, {
        outputs: (s) => outputs.get(s),
        artifact: (service) => (service === LOADGEN_ARTIFACT ? { bucket } : undefined),
        secret: () => undefined,
        secretVersion: () => undefined,
        lookup: () => undefined,
        image: () => undefined,
      });
      if (missing.length) throw new RefusedError(`${loadgen.stackName} needs ${missing.join(', ')}, not there yet`);
      return deployStack({ stackName: loadgen.stackName, template: loadgen.template, parameters: values, tags, templateBucket: bucket }, deps, ctx);
    },
  });
  const out = stack.data ?? {};
  const need = (name: keyof typeof LOADGEN): string => {
    const v = out[LOADGEN[name].output];
    if (!v) throw new RefusedError(`${loadgen.stackName} has no output ${LOADGEN[name].output}${play.options.check ? ' (--check deploys nothing)' : ''}`);
    return v;
  };
  const a = artifact.data ?? {};
  return {
    region: inv.region,
    cluster: need('ClusterName'),
    taskDefinitionArn: need('TaskDefinitionArn'),
    container: LOADGEN_CONTAINER,
    subnets: need('SubnetIds').split(',').filter(Boolean),
    securityGroups: [need('SecurityGroupId')],
    artifact: { bucket, key: a.key ?? '', sha256: a.sha256 ?? '' },
    results: { bucket, prefix: LOADGEN_RESULTS_PREFIX },
    logGroup: need('LogGroupName'),
  };
}

/** The stacks whose outputs a stack takes (the network, for loadgen). */
function stacksTakenBy(stack: RenderedStack): string[] {
  return [...new Set(Object.values(stack.inputs).flatMap((i) => (i.from === 'output' ? [i.stack] : [])))];
}

/** The repository root: the nearest folder above this file with package.json (this file runs from dist/ or from source). */
function repositoryRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

/**
 * The play's lines to the launcher's `line`, without colour or a status line; a person at a
 * terminal is asked to approve a change set as deploy asks (--yes skips it).
 */
class LineOutput extends Output {
  constructor(line: (text: string) => void) {
    let partial = '';
    const out = new Writable({
      write(chunk: Buffer, _enc, done) {
        const lines = (partial + chunk.toString()).split('\n');
        partial = lines.pop() ?? '';
        for (const l of lines) line(l);
        done();
      },
    });
    super({ out, tty: false });
  }

  override get interactive(): boolean {
    return Boolean(process.stdin.isTTY && process.stdout.isTTY);
  }

  override async ask(question: string): Promise<string> {
    const rl = createInterface({ input: process.stdin, output: process.stdout });
    try {
      return await rl.question(question);
    } finally {
      rl.close();
    }
  }
}
