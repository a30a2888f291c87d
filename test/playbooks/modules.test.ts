// The smaller AWS modules: a reproducible, content-addressed artifact holding only what a service
// imports; static assets with content types, cache headers and targeted invalidation; secrets kept
// unless rotation is asked for; waiting for healthy targets; drift shown resource by resource.
import t from 'tap';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { list as listTar } from 'tar';
import { StackResourceDriftStatus } from '@aws-sdk/client-cloudformation';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { CloudFrontClient } from '@aws-sdk/client-cloudfront';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { SdkS3 } from '../../playbooks/lib/aws/s3.js';
import { SdkSecrets } from '../../playbooks/lib/aws/secrets.js';
import { SdkCloudFront } from '../../playbooks/lib/aws/cloudfront.js';
import { SdkElbv2 } from '../../playbooks/lib/aws/elbv2.js';
import { artifactFiles, artifactTask, buildArtifact } from '../../playbooks/lib/modules/artifact.js';
import { cacheControlFor, contentTypeFor, invalidationPaths, syncStaticAssets } from '../../playbooks/lib/modules/static-assets.js';
import { ensureSecret } from '../../playbooks/lib/modules/secret.js';
import { waitHealthy } from '../../playbooks/lib/modules/wait-healthy.js';
import { templateBody } from '../../cloudformation/index.js';
import { artifactRoot, inventory, stackSource } from '../fixtures/aws-play.js';
import { networkTemplate } from '../fixtures/stack-templates.js';
import { FakeCloudFront, FakeElbv2, FakeS3, FakeSecrets } from './fake-aws.js';
import { run, world } from './harness.js';
import { FAST_RETRY, TEST_CREDENTIALS, runTask } from './support.js';

process.env.AWS_ACCESS_KEY_ID = 'AKIDEXAMPLE';
process.env.AWS_SECRET_ACCESS_KEY = 'not-a-real-secret';
delete process.env.AWS_ENDPOINT_URL;

const cfg = { region: 'eu-west-1', credentials: TEST_CREDENTIALS };
const root = await artifactRoot();
t.teardown(() => rm(root, { recursive: true, force: true }));

t.test('artifact: only what the service imports, reproducible, named by its sha256, uploaded once', async (t) => {
  const files = await artifactFiles(root, 'catalog');
  t.same(files, [
    'dist/services/catalog/main.js',
    'dist/services/catalog/migrate.js',
    'dist/services/catalog/seed.js',
    'dist/services/kit/server.js',
    'node_modules/dialect/index.js',
    'node_modules/leftpad/index.js',
    'node_modules/leftpad/package.json',
    'node_modules/tiny/index.js',
    'package.json',
  ], 'the kit file it imports, the package it imports, its dependency and its installed optional peer (loaded at run time); not other services, unused kit files or dev packages');
  const a = await buildArtifact(root, 'catalog', join(root, 'cache-a'));
  const b = await buildArtifact(root, 'catalog', join(root, 'cache-b'));
  t.equal(a.sha256, b.sha256, 'two builds give the same bytes');
  t.equal(a.key, `artifacts/catalog/${a.sha256}.tgz`);
  const entries: Array<{ path: string; mtime: number }> = [];
  await listTar({ file: a.file, onReadEntry: (e) => entries.push({ path: e.path, mtime: e.mtime?.getTime() ?? -1 }) });
  t.same(entries.map((e) => e.path), files, 'sorted entries');
  t.ok(entries.every((e) => e.mtime === 0), 'fixed mtime');

  const s3 = new FakeS3();
  t.teardown(() => s3.restore());
  s3.buckets.add('bkt');
  const api = new SdkS3(new S3Client(cfg), FAST_RETRY);
  const args = { service: 'catalog', root, cacheDir: join(root, 'cache-a'), bucket: 'bkt', bucketExists: true, keyPrefix: 'artifacts/' };
  const first = await runTask([], (ctx) => artifactTask(args, api, ctx));
  t.equal(first.outcome.status, 'changed');
  t.equal(s3.objects.get(`bkt/${a.key}`)?.metadata?.sha256, a.sha256);
  const again = await runTask([], (ctx) => artifactTask(args, api, ctx));
  t.equal(again.outcome.status, 'ok');
  t.match(again.outcome.message, /already uploaded/);
  t.equal(s3.puts().length, 1, 'uploaded only when absent');

  await writeFile(join(root, 'dist/services/users/main.js'), "import { serve } from '../kit/server.js';\nexport const users = serve() + 'changed';\n");
  t.equal((await buildArtifact(root, 'catalog', join(root, 'cache-c'))).sha256, a.sha256, 'a change to another service leaves this artifact as it was');
  await rm(join(root, 'dist/services/orders/main.js'));
  await t.rejects(buildArtifact(root, 'orders', join(root, 'cache-d')), /dist\/services\/orders\/main\.js is missing: build the services first \(npm run build\)/);
});

t.test('the bootstrap artifact: a reproducible zip of the handler, every declared command and what they import', async (t) => {
  const own = await artifactRoot();
  t.teardown(() => rm(own, { recursive: true, force: true }));
  const files = await artifactFiles(own, 'bootstrap');
  t.same(files.filter((f) => f.startsWith('dist/')), [
    'dist/playbooks/lib/bootstrap/handler.js',
    'dist/services/catalog/migrate.js',
    'dist/services/catalog/seed.js',
    'dist/services/inventory/migrate.js',
    'dist/services/inventory/seed.js',
    'dist/services/kit/server.js',
    'dist/services/orders/migrate.js',
    'dist/services/users/create-admin.js',
    'dist/services/users/migrate.js',
  ], 'the handler, the commands, the kit file the handler imports; no service main programs');
  const a = await buildArtifact(own, 'bootstrap', join(own, 'cache-a'));
  const b = await buildArtifact(own, 'bootstrap', join(own, 'cache-b'));
  t.equal(a.sha256, b.sha256, 'two builds give the same bytes');
  t.equal(a.key, `artifacts/bootstrap/${a.sha256}.zip`);
  t.equal((await readFile(a.file)).subarray(0, 4).toString('latin1'), 'PK\x03\x04', 'a zip, as Lambda takes it');
  await rm(join(own, 'dist/services/users/create-admin.js'));
  await t.rejects(buildArtifact(own, 'bootstrap', join(own, 'cache-c')), /dist\/services\/users\/create-admin\.js is missing: build first \(npm run build\)/);
});

t.test('static assets: changed files only, types and cache headers, invalidation of overwritten paths', async (t) => {
  t.equal(cacheControlFor('index.html'), 'public, max-age=0, must-revalidate');
  t.equal(cacheControlFor('app.3f2a9c81d0.js'), 'public, max-age=31536000, immutable');
  t.equal(cacheControlFor('img/logo.svg'), 'public, max-age=3600');
  t.equal(contentTypeFor('index.html'), 'text/html; charset=utf-8');
  t.equal(contentTypeFor('img/logo.svg'), 'image/svg+xml; charset=utf-8');
  t.equal(contentTypeFor('a.png'), 'image/png');
  t.same(invalidationPaths(['index.html', 'shop/index.html', 'a.css']), ['/', '/a.css', '/index.html', '/shop/', '/shop/index.html']);
  t.same(invalidationPaths(Array.from({ length: 40 }, (_, i) => `f${i}.css`)), ['/*']);

  const s3 = new FakeS3();
  const cf = new FakeCloudFront();
  t.teardown(() => (s3.restore(), cf.restore()));
  const s3api = new SdkS3(new S3Client(cfg), FAST_RETRY);
  const cfapi = new SdkCloudFront(new CloudFrontClient(cfg), FAST_RETRY);
  const args = { dir: join(root, 'static'), bucket: 'site', distributionId: 'E1', prefix: '' };
  const first = await runTask([], (ctx) => syncStaticAssets(args, s3api, cfapi, ctx));
  t.equal(first.outcome.status, 'changed');
  t.equal(s3.objects.get('site/index.html')?.contentType, 'text/html; charset=utf-8');
  t.equal(s3.objects.get('site/app.3f2a9c81d0.js')?.cacheControl, 'public, max-age=31536000, immutable');
  t.same(cf.invalidations, [], 'new files need no invalidation');
  await writeFile(join(root, 'static/img/logo.svg'), '<svg id="v2"/>');
  s3.mock.resetHistory();
  const second = await runTask([], (ctx) => syncStaticAssets(args, s3api, cfapi, ctx));
  t.match(second.outcome.message, /uploaded 1 of 3 files changed, 1 path to invalidate/);
  t.same(s3.puts(), ['site/img/logo.svg'], 'only the changed file');
  t.same(cf.invalidations, [{ distribution: 'E1', paths: ['/img/logo.svg'] }]);
  const third = await runTask([], (ctx) => syncStaticAssets(args, s3api, cfapi, ctx));
  t.equal(third.outcome.status, 'ok');
});

t.test('secret: created with a generated value, kept, rotated only when asked; never printed', async (t) => {
  const fake = new FakeSecrets();
  t.teardown(() => fake.restore());
  const api = new SdkSecrets(new SecretsManagerClient(cfg), FAST_RETRY);
  let n = 0;
  const args = (rotate: boolean) => ({ name: 'saleday/test/token', description: 'd', generate: () => Promise.resolve(JSON.stringify({ token: `generated-value-${++n}` })), rotate, tags: {}, outputName: 'arn' });
  const check = await runTask(['--check'], (ctx) => ensureSecret(args(false), api, ctx));
  t.equal(check.outcome.status, 'changed');
  t.equal(fake.secrets.size, 0, '--check creates nothing');
  const created = await runTask([], (ctx) => ensureSecret(args(false), api, ctx));
  t.equal(created.outcome.status, 'changed');
  t.match(created.outcome.data?.arn, /^arn:aws:secretsmanager:/);
  const kept = await runTask([], (ctx) => ensureSecret(args(false), api, ctx));
  t.equal(kept.outcome.status, 'ok');
  t.equal(fake.secrets.get('saleday/test/token')!.value, '{"token":"generated-value-1"}', 'value kept');
  const rotated = await runTask([], (ctx) => ensureSecret(args(true), api, ctx));
  t.equal(rotated.outcome.status, 'changed');
  t.equal(fake.secrets.get('saleday/test/token')!.value, '{"token":"generated-value-2"}');
  for (const r of [check, created, kept, rotated]) t.notMatch(r.text, /generated-value/, 'never printed');
});

t.test('wait for healthy: polls until every target is healthy, or names the unhealthy ones', async (t) => {
  const fake = new FakeElbv2();
  t.teardown(() => fake.restore());
  const api = new SdkElbv2(new ElasticLoadBalancingV2Client(cfg), FAST_RETRY);
  fake.health.set('tg-1', [['initial', 'initial'], ['healthy', 'initial'], ['healthy', 'healthy']]);
  const good = await runTask([], (ctx) => waitHealthy({ service: 'catalog', targetGroupArn: 'tg-1', minHealthy: 2, timeoutMs: 5000, pollMs: 1 }, api, ctx));
  t.equal(good.outcome.status, 'ok');
  t.match(good.text, /catalog: 2 initial[\s\S]*catalog: 1 healthy, 1 initial[\s\S]*catalog: 2 healthy/);
  fake.health.set('tg-2', [['healthy', 'unhealthy']]);
  const bad = await runTask([], (ctx) => waitHealthy({ service: 'orders', targetGroupArn: 'tg-2', minHealthy: 2, timeoutMs: 0, pollMs: 1 }, api, ctx));
  t.equal(bad.outcome.status, 'failed');
  t.match(bad.outcome.message, /orders: not healthy within 0s \(1 healthy, 1 unhealthy, need 2\)\ni-1:3000 unhealthy \(Health checks failed\)/);
});

t.test('drift.mjs: each drifted resource with expected and actual values', async (t) => {
  const w = world();
  t.teardown(() => w.restore());
  const source = stackSource();
  w.cfn.addStack('saleday-test-network', { templateBody: templateBody(networkTemplate()) });
  w.cfn.addStack('saleday-test-database', { templateBody: '{}' });
  w.cfn.drifts.set('saleday-test-network', [
    {
      StackId: 'x', LogicalResourceId: 'Vpc', PhysicalResourceId: 'vpc-0abc', ResourceType: 'AWS::EC2::VPC', StackResourceDriftStatus: StackResourceDriftStatus.MODIFIED, Timestamp: new Date(0),
      PropertyDifferences: [
        { PropertyPath: '/EnableDnsHostnames', ExpectedValue: 'true', ActualValue: 'false', DifferenceType: 'NOT_EQUAL' },
        { PropertyPath: '/Tags/2', ExpectedValue: undefined, ActualValue: '{"Key":"owner","Value":"someone"}', DifferenceType: 'ADD' },
        { PropertyPath: '/MasterUserPassword', ExpectedValue: 'a', ActualValue: 'b', DifferenceType: 'NOT_EQUAL' },
      ],
    },
  ]);
  const r = await run('drift', ['-i', 'test.yaml'], { inventory, source, root });
  t.equal(r.code, 0);
  t.match(r.text, /Vpc \(AWS::EC2::VPC, vpc-0abc\): MODIFIED\n {2}\/EnableDnsHostnames NOT_EQUAL: expected true, actual false\n {2}\/Tags\/2 ADD: expected \(none\), actual \{"Key":"owner","Value":"someone"\}/);
  t.match(r.text, /\/MasterUserPassword NOT_EQUAL: expected \*\*\*\*, actual \*\*\*\*/, 'secret-looking values masked');
  t.match(r.text, /changed: \[drift network\] DRIFTED: 1 resource differs? from the template/);
  t.match(r.text, /ok: \[drift database\] in sync/);
  t.match(r.text, /skipped: \[drift load-balancer\] saleday-test-load-balancer is not deployed/);
  const detailed = await run('drift', ['-i', 'test.yaml', '--detailed-exitcode'], { inventory, source, root });
  t.equal(detailed.code, 3, '--detailed-exitcode: 3 when something drifted');
  w.cfn.drifts.clear();
  t.equal((await run('drift', ['-i', 'test.yaml', '--detailed-exitcode'], { inventory, source, root })).code, 0);
});
