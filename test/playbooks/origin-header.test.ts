// The edge at play level, with the real renderers against the AWS fakes: the CloudFront prefix list
// is looked up per region and passed to the load balancer; the origin header secret reaches both
// stacks by version id; `-e rotate=origin-header` goes through without a moment where CloudFront
// sends a value the load balancer refuses (new value accepted beside the old, CloudFront switched,
// old dropped); without domain.hostedZoneId the deploy prints the DNS records to create.
import t from 'tap';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CreateChangeSetCommand } from '@aws-sdk/client-cloudformation';
import { PutSecretValueCommand, UpdateSecretVersionStageCommand } from '@aws-sdk/client-secrets-manager';
import { loadEnvironment, programPath, SHOP_SERVICES } from '../../environment/index.js';
import { renderedStacks } from '../../playbooks/lib/stack-source.js';
import { artifactRoot } from '../fixtures/aws-play.js';
import { FakeEc2 } from './fake-aws.js';
import { publicSite, run, world, type World } from './harness.js';

process.env.AWS_ACCESS_KEY_ID = 'AKIDEXAMPLE';
process.env.AWS_SECRET_ACCESS_KEY = 'not-a-real-secret';
delete process.env.AWS_ENDPOINT_URL;

const repo = fileURLToPath(new URL('../..', import.meta.url));
const root = await artifactRoot();
// The bootstrap stack takes an artifact too: its handler and every declared command, compiled.
for (const program of ['dist/playbooks/lib/bootstrap/handler.js', ...SHOP_SERVICES.flatMap((d) => Object.keys(d.commands).map((c) => programPath(d.name, c)))]) {
  await mkdir(join(root, dirname(program)), { recursive: true });
  await writeFile(join(root, program), 'export const handler = () => 1;\n');
}
const site = await publicSite();
t.teardown(async () => {
  site.server.close();
  await rm(root, { recursive: true, force: true });
});
const staging = await loadEnvironment(`${repo}/playbooks/inventories/staging.yaml`);
const SECRET = 'saleday/staging/origin-header';

/** Every change set since call `from`: the stack and its origin-header parameters. */
function changeSets(w: World, from = 0): Array<{ stack: string; send?: string; pending?: string; prefixList?: string }> {
  return w.cfn.mock.commandCalls(CreateChangeSetCommand).slice(from).map((c) => {
    const p = Object.fromEntries((c.args[0].input.Parameters ?? []).map((x) => [x.ParameterKey, x.ParameterValue]));
    return {
      stack: c.args[0].input.StackName!.replace('saleday-staging-', ''),
      ...(p.OriginHeaderVersionId !== undefined ? { send: p.OriginHeaderVersionId } : {}),
      ...(p.OriginHeaderPendingVersionId !== undefined ? { pending: p.OriginHeaderPendingVersionId } : {}),
      ...(p.CloudFrontPrefixListId !== undefined ? { prefixList: p.CloudFrontPrefixListId } : {}),
    };
  }).filter((c) => c.send !== undefined || c.prefixList !== undefined);
}

t.test('first deploy: the prefix list and the origin header version reach both stacks', async (t) => {
  const w = world();
  t.teardown(() => w.restore());
  w.cfn.outputValues.set('SiteUrl', site.url);
  const env = { inventory: staging, source: renderedStacks(staging, root), root };
  const reviewMd = `${root}/review-first.md`;
  const first = await run('deploy', ['-i', 'staging.yaml', '--yes', '--review-md', reviewMd], env);
  if (first.code !== 0) t.comment(first.text);
  t.equal(first.code, 0);
  t.match(first.text, /\[cloudfront prefix list\] com\.amazonaws\.global\.cloudfront\.origin-facing: pl-4fa04526/);
  const current = w.secrets.stage(SECRET, 'AWSCURRENT');
  t.ok(current, 'the origin header secret exists, one version');
  t.same(changeSets(w), [
    { stack: 'load-balancer', send: current, pending: '', prefixList: 'pl-4fa04526' },
    { stack: 'static-site', send: current },
  ]);
  t.notMatch(first.text, JSON.parse(w.secrets.secrets.get(SECRET)!.value).value, 'the value is never printed');
  t.notMatch(first.text, /DNS records to create/, 'staging has no domain: no records to print');
  t.match(await readFile(reviewMd, 'utf8'), /#### :warning: Findings\n\n- `static-site` CloudFront\.9: CloudFront reaches origin api over plain HTTP \(http-only\)/, 'the review names the plain-HTTP origin');
});

t.test('-e rotate=origin-header: accepted beside the old, CloudFront switched, the old dropped; then nothing to do', async (t) => {
  const w = world();
  t.teardown(() => w.restore());
  w.cfn.outputValues.set('SiteUrl', site.url);
  const env = { inventory: staging, source: renderedStacks(staging, root), root };
  t.equal((await run('deploy', ['-i', 'staging.yaml', '--yes'], env)).code, 0);
  const old = w.secrets.stage(SECRET, 'AWSCURRENT')!;

  const check = await run('deploy', ['-i', 'staging.yaml', '--check', '-e', 'rotate=origin-header'], env);
  t.equal(check.code, 0, '--check');
  t.equal(w.secrets.mock.commandCalls(PutSecretValueCommand).length + w.secrets.mock.commandCalls(UpdateSecretVersionStageCommand).length, 0, '--check changes no secret');
  t.match(check.text, /would rotate saleday\/staging\/origin-header/);

  const before = w.cfn.mock.commandCalls(CreateChangeSetCommand).length;

  const rotated = await run('deploy', ['-i', 'staging.yaml', '--yes', '-e', 'rotate=origin-header'], env);
  if (rotated.code !== 0) t.comment(rotated.text);
  t.equal(rotated.code, 0, 'rotation deploy');
  const fresh = w.secrets.stage(SECRET, 'AWSCURRENT')!;
  t.not(fresh, old, 'a new current version');
  t.equal(w.secrets.stage(SECRET, 'AWSPREVIOUS'), old);
  t.equal(w.secrets.stage(SECRET, 'AWSPENDING'), undefined, 'nothing left pending');
  t.same(changeSets(w, before), [
    { stack: 'load-balancer', send: old, pending: fresh, prefixList: 'pl-4fa04526' }, // accepts both
    { stack: 'static-site', send: old }, // CloudFront still sends the old value
    { stack: 'static-site', send: fresh }, // switched, once the new value is accepted
    { stack: 'load-balancer', send: fresh, pending: '', prefixList: 'pl-4fa04526' }, // the old value dropped
  ], 'at every step the value CloudFront sends is one the load balancer accepts');
  t.match(rotated.text, /new value staged as AWSPENDING/);
  t.match(rotated.text, /origin header: CloudFront sends the new value/);
  t.match(rotated.text, /stack load-balancer \(old origin header dropped\)/);

  const again = await run('deploy', ['-i', 'staging.yaml', '--yes'], env);
  t.match(again.text, /changed=0 {2}skipped=0 {2}failed=0/, 'the next deploy changes nothing');
});

t.test('a region without the CloudFront prefix list: refused, saying why, before the load balancer', async (t) => {
  const w = world();
  t.teardown(() => w.restore());
  w.ec2.restore();
  const ec2 = new FakeEc2({});
  t.teardown(() => ec2.restore());
  const env = { inventory: staging, source: renderedStacks(staging, root), root };
  const out = await run('deploy', ['-i', 'staging.yaml', '--yes'], env);
  t.equal(out.code, 2);
  t.match(out.text, /com\.amazonaws\.global\.cloudfront\.origin-facing is not in eu-west-1/);
  t.notOk(w.cfn.mock.commandCalls(CreateChangeSetCommand).some((c) => c.args[0].input.StackName!.endsWith('load-balancer')), 'the load balancer is not touched');
});

t.test('production without domain.hostedZoneId: the deploy prints the DNS records to create', async (t) => {
  const w = world();
  t.teardown(() => w.restore());
  w.cfn.outputValues.set('SiteUrl', site.url);
  w.cfn.outputValues.set('DistributionDomainName', 'd111111abcdef8.cloudfront.net');
  w.cfn.outputValues.set('LoadBalancerDnsName', 'saleday-production-alb-1.eu-west-1.elb.amazonaws.com');
  const production = await loadEnvironment(`${repo}/playbooks/inventories/production.yaml`);
  const out = await run('deploy', ['-i', 'production.yaml', '--yes', '--skip-tags', 'health'], { inventory: production, source: renderedStacks(production, root), root });
  if (out.code !== 0) t.comment(out.text);
  t.equal(out.code, 0);
  t.match(out.text, /DNS records to create \(no domain\.hostedZoneId/);
  t.match(out.text, /shop\.example\.com {2}A and AAAA, alias to d111111abcdef8\.cloudfront\.net \(hosted zone Z2FDTNDATAQYW2\)/);
  t.match(out.text, /www\.shop\.example\.com {2}A and AAAA, alias to d111111abcdef8\.cloudfront\.net/);
  t.match(out.text, /api\.shop\.example\.com {2}A, alias to saleday-production-alb-1\.eu-west-1\.elb\.amazonaws\.com/);
});
