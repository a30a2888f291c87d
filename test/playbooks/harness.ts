// Runs deploy/drift playbooks in-process against the AWS fakes, with output captured.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { runPlaybook, type PlaybookName } from '../../playbooks/lib/main.js';
import type { Environment } from '../../environment/index.js';
import type { StackSource } from '../../playbooks/lib/stack-source.js';
import { FakeCloudFormation, FakeCloudFront, FakeEc2, FakeElastiCache, FakeElbv2, FakeLambda, FakePreflight, FakeS3, FakeSecrets, FakeSsm, FakeSts } from './fake-aws.js';
import { capturedOutput, FAST_RETRY } from './support.js';
import { artifactRoot } from '../fixtures/aws-play.js';
import { rm } from 'node:fs/promises';

export interface World {
  cfn: FakeCloudFormation;
  s3: FakeS3;
  secrets: FakeSecrets;
  cloudfront: FakeCloudFront;
  elbv2: FakeElbv2;
  ec2: FakeEc2;
  sts: FakeSts;
  /** What only the preflight reads (EC2, Service Quotas, IAM, ACM, WAF). */
  preflight: FakePreflight;
  lambda: FakeLambda;
  elasticache: FakeElastiCache;
  ssm: FakeSsm;
  restore(): void;
  /** Every mutating call across the fakes, "Service:Command target". */
  mutations(): string[];
}

export function world(): World {
  const ec2 = new FakeEc2();
  const w = { cfn: new FakeCloudFormation(), s3: new FakeS3(), secrets: new FakeSecrets(), cloudfront: new FakeCloudFront(), elbv2: new FakeElbv2(), ec2, sts: new FakeSts(), preflight: new FakePreflight(ec2.mock, false), lambda: new FakeLambda(), elasticache: new FakeElastiCache(), ssm: new FakeSsm() };
  const names = (mock: { calls(): Array<{ args: unknown[] }> }, svc: string) =>
    mock.calls().map((c) => {
      const cmd = c.args[0] as { constructor: { name: string }; input: Record<string, string | undefined> };
      const target = cmd.input.StackName ?? cmd.input.Key ?? cmd.input.Bucket ?? cmd.input.Name ?? cmd.input.SecretId ?? cmd.input.DistributionId ?? '';
      return `${svc}:${cmd.constructor.name.replace(/Command$/, '')} ${target}`;
    });
  return {
    ...w,
    restore: () => Object.values(w).forEach((f) => f.restore()),
    mutations: () =>
      [...names(w.cfn.mock, 'cfn'), ...names(w.s3.mock, 's3'), ...names(w.secrets.mock, 'secrets'), ...names(w.cloudfront.mock, 'cloudfront'), ...names(w.elasticache.mock, 'elasticache')].filter((c) =>
        /:(Create|Delete|Execute|Update|Put|Continue|Detect|Rotate|Modify)/.test(c),
      ),
  };
}

export async function run(
  playbook: PlaybookName,
  argv: string[],
  env: { inventory: Environment; source: StackSource; root: string; staticDir?: string },
): Promise<{ code: number; text: string; errors: string[] }> {
  const { output, out } = capturedOutput();
  const errors: string[] = [];
  const code = await runPlaybook(playbook, argv, {
    root: env.root,
    loadEnvironment: () => env.inventory,
    stacks: () => env.source,
    output,
    aws: { retry: FAST_RETRY, pollMs: 1 },
    deploy: { healthTimeoutMs: 2000, smokeTimeoutMs: 2000, smokePaths: ['/'], ...(env.staticDir ? { staticDir: env.staticDir } : {}) },
    error: (line) => errors.push(line),
  });
  return { code, text: out.text, errors };
}

/** A 127.0.0.1 server standing in for the public URL in smoke checks. */
export async function publicSite(): Promise<{ url: string; server: Server; hits: string[] }> {
  const hits: string[] = [];
  const server = createServer((req, res) => {
    hits.push(req.url ?? '');
    res.end('ok');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server, hits };
}

/**
 * What a file of AWS play tests shares: fake credentials (no endpoint), the artifact root, the
 * public site the smoke check reads, both removed when the file ends.
 */
export async function awsPlayFiles(t: { teardown(fn: () => Promise<void>): void }): Promise<{ root: string; site: Awaited<ReturnType<typeof publicSite>> }> {
  process.env.AWS_ACCESS_KEY_ID = 'AKIDEXAMPLE';
  process.env.AWS_SECRET_ACCESS_KEY = 'not-a-real-secret';
  delete process.env.AWS_ENDPOINT_URL;
  const root = await artifactRoot();
  const site = await publicSite();
  t.teardown(async () => {
    site.server.close();
    await rm(root, { recursive: true, force: true });
  });
  return { root, site };
}

/** A fresh world whose site answers at `siteUrl` and whose catalog targets are healthy. */
export function healthyWorld(siteUrl: string): World {
  const w = world();
  w.cfn.outputValues.set('SiteUrl', siteUrl);
  w.elbv2.health.set('saleday-test-load-balancer:CatalogTargetGroupArn', [['healthy', 'healthy']]);
  return w;
}
