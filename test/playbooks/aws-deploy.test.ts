// deploy.mjs's aws play end to end against the AWS fakes: the order of stacks, outputs passed on
// as parameters, a second run that changes nothing, --check touching nothing but change sets,
// --limit touching one service, kept change sets executed later (and refused when the stack
// moved), --detailed-exitcode, and secrets never printed.
import t, { type Test } from 'tap';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { CreateChangeSetCommand } from '@aws-sdk/client-cloudformation';
import { inventory, stackSource, SERVICES } from '../fixtures/aws-play.js';
import { awsPlayFiles, healthyWorld, run, type World } from './harness.js';

const { root, site } = await awsPlayFiles(t);
let w: World;
t.beforeEach(() => {
  w = healthyWorld(site.url);
});
t.afterEach(() => w.restore());

const env = (source = stackSource()) => ({ inventory, source, root });
const stackOf = (call: string) => call.split(' ')[1]!.split('/')[0]!;
/** Asserts an exit code; the run's output is shown only when it is wrong. */
const exitCode = (t: Test, r: { code: number; text: string }, code: number) => {
  if (r.code !== code) t.comment(r.text);
  t.equal(r.code, code, `exit code ${code}`);
};

t.test('first deploy creates every stack in order, passes outputs on, and a second run changes nothing', async (t) => {
  const source = stackSource();
  const first = await run('deploy', ['-i', 'test.yaml', '--yes'], env(source));
  exitCode(t, first, 0);
  const created = w.cfn.calls().filter((c) => c.startsWith('CreateChangeSet')).map(stackOf);
  t.same(created.slice(0, 3), ['saleday-test-network', 'saleday-test-database', 'saleday-test-load-balancer']);
  t.same(created.slice(3, 7).sort(), SERVICES.map((s) => `saleday-test-service-${s}`).sort(), 'services after the load balancer');
  t.same(created.slice(7), ['saleday-test-static-site', 'saleday-test-monitoring']);
  t.ok(w.s3.buckets.has('saleday-artifacts-123456789012-eu-west-1'), 'the artifacts bucket is named after the account and region');
  // Outputs became parameters: the database got the network's VpcId, catalog its artifact key.
  type Input = { StackName?: string; Parameters?: Array<{ ParameterKey?: string; ParameterValue?: string }> };
  const inputs: Input[] = w.cfn.mock.commandCalls(CreateChangeSetCommand).map((c): Input => c.args[0].input);
  const params = (stack: string) => Object.fromEntries((inputs.find((i) => i.StackName === stack)!.Parameters ?? []).map((p): [string, string] => [p.ParameterKey ?? '', p.ParameterValue ?? '']));
  t.equal(params('saleday-test-database').VpcId, 'saleday-test-network:VpcId');
  t.match(params('saleday-test-service-catalog').ArtifactKey, /^artifacts\/catalog\/[0-9a-f]{64}\.tgz$/);
  t.equal(params('saleday-test-service-catalog').ArtifactBucket, 'saleday-artifacts-123456789012-eu-west-1');
  t.match(params('saleday-test-service-catalog').ArtifactSha256, /^[0-9a-f]{64}$/);
  t.equal(params('saleday-test-service-catalog').JwtVerifySecretArn, w.secrets.secrets.get('saleday/test/jwt-public')!.arn, 'secret ARNs become parameters');
  t.equal(w.s3.puts().filter((p) => p.includes('/artifacts/')).length, 4, 'four artifacts uploaded');
  t.same([...w.secrets.secrets.keys()].sort(), ['saleday/test/jwt', 'saleday/test/jwt-public', 'saleday/test/redis-auth', 'saleday/test/service-credential']);
  for (const s of w.secrets.secrets.values()) {
    const value = JSON.parse(s.value) as Record<string, unknown>;
    // (the key set's `keys` repeat the top-level keys)
    for (const v of Object.values(value)) if (typeof v === 'string') t.notOk(first.text.includes(v.slice(40, 80)), 'secret values never printed');
  }
  t.match(first.text, /ok: \[smoke check\]/);
  t.ok(site.hits.length > 0, 'the smoke check went through the public URL');
  t.match(first.text, /PLAY RECAP/);

  w.cfn.mock.resetHistory();
  w.s3.mock.resetHistory();
  w.secrets.mock.resetHistory();
  const second = await run('deploy', ['-i', 'test.yaml', '--yes'], env(source));
  t.equal(second.code, 0);
  t.match(second.text, /ok=\d+ {2}changed=0 {2}skipped=0 {2}failed=0/, 'every task ok');
  t.notMatch(second.text, /^changed:/m);
  t.same(w.mutations().filter((c) => !/cfn:(Create|Delete)ChangeSet/.test(c)), [], 'nothing but change sets created and deleted');
});

t.test('--check makes no mutating call except creating and deleting change sets', async (t) => {
  const fresh = await run('deploy', ['-i', 'test.yaml', '--check'], env());
  exitCode(t, fresh, 0);
  t.same(w.mutations().filter((c) => !/cfn:(Create|Delete)ChangeSet/.test(c)), []);
  t.match(fresh.text, /changed: \[stack network\] would create: 1 to add/);
  t.match(fresh.text, /skipped: \[stack database\] needs VpcId \(output VpcId of network\), not there yet \(an earlier stack is not deployed\)/);
  t.match(fresh.text, /changed: \[secret jwt\] would create saleday\/test\/jwt/);
  t.equal(w.cfn.changeSets.size, 0, 'no change set left behind');
  t.equal([...w.cfn.stacks.values()].filter((s) => s.status !== 'REVIEW_IN_PROGRESS').length, 0, 'no stack created');

  await run('deploy', ['-i', 'test.yaml', '--yes'], env());
  w.cfn.mock.resetHistory();
  w.s3.mock.resetHistory();
  w.secrets.mock.resetHistory();
  const changedSource = stackSource({ cidr: '10.9.0.0/16', catalogMax: '2' });
  await writeFile(join(root, 'static/index.html'), '<!doctype html><title>shop v2</title>');
  const check = await run('deploy', ['-i', 'test.yaml', '--check', '--diff'], env(changedSource));
  t.equal(check.code, 0);
  t.match(check.text, /would update: 1 to modify/);
  t.match(check.text, /would upload 1 of 3 files changed, 2 paths to invalidate/);
  t.match(check.text, /\[~\] AWS::EC2::VPC Vpc/, '--diff shows the template difference');
  t.same(w.mutations().filter((c) => !/cfn:(Create|Delete)ChangeSet/.test(c)), []);
});

t.test('--detailed-exitcode: 3 with changes present, 0 without', async (t) => {
  const changes = await run('deploy', ['-i', 'test.yaml', '--check', '--detailed-exitcode'], env());
  t.equal(changes.code, 3);
  await run('deploy', ['-i', 'test.yaml', '--yes'], env());
  const none = await run('deploy', ['-i', 'test.yaml', '--check', '--detailed-exitcode'], env());
  exitCode(t, none, 0);
  const usage = await run('deploy', ['-i', 'test.yaml', '--detailed-exitcode'], env());
  t.equal(usage.code, 1);
  t.match(usage.errors.join('\n'), /--detailed-exitcode goes with --check/);
});

t.test('--limit catalog touches only the catalog stack and artifact', async (t) => {
  await run('deploy', ['-i', 'test.yaml', '--yes'], env());
  w.cfn.mock.resetHistory();
  w.s3.mock.resetHistory();
  w.secrets.mock.resetHistory();
  w.cloudfront.mock.resetHistory();
  // Catalog's code and template change; so does the network template, which --limit must leave alone.
  await writeFile(join(root, 'dist/services/catalog/main.js'), "import { serve } from '../kit/server.js';\nexport const catalog = serve() + 'v2';\n");
  const r = await run('deploy', ['-i', 'test.yaml', '--yes', '--limit', 'catalog'], env(stackSource({ cidr: '10.7.0.0/16', catalogMax: '5' })));
  exitCode(t, r, 0);
  const touched = w.mutations();
  t.ok(touched.length > 0);
  for (const c of touched) t.match(c, /saleday-test-service-catalog|artifacts\/catalog\//, `only catalog: ${c}`);
  t.ok(touched.some((c) => c.startsWith('cfn:ExecuteChangeSet saleday-test-service-catalog')));
  t.ok(touched.some((c) => /s3:PutObject artifacts\/catalog\//.test(c)));
  t.match(r.text, /ok: \[stack network \(outputs\)\]/);
  t.match(r.text, /skipped: \[stack service-users\] not in --limit catalog/);
  const unknown = await run('deploy', ['-i', 'test.yaml', '--limit', 'nope'], env());
  t.equal(unknown.code, 1);
  t.match(unknown.errors[0], /--limit nope: no such service/);
});

t.test('--keep-change-sets then --execute-reviewed, and refusal when the stack moved', async (t) => {
  await run('deploy', ['-i', 'test.yaml', '--yes'], env());
  const next = stackSource({ cidr: '10.5.0.0/16', catalogMax: '4' });
  const review = await run('deploy', ['-i', 'test.yaml', '--check', '--keep-change-sets'], env(next));
  exitCode(t, review, 0);
  t.match(review.text, /Change sets kept for --execute-reviewed:\n {2}saleday-test-network: saleday-reviewed-[0-9a-f]{12}\n {2}saleday-test-service-catalog: saleday-reviewed-/);
  const kept = [...w.cfn.changeSets.values()].map((c) => c.stackName).sort();
  t.same(kept, ['saleday-test-network', 'saleday-test-service-catalog']);

  w.cfn.mock.resetHistory();
  const exec = await run('deploy', ['-i', 'test.yaml', '--execute-reviewed'], env(next));
  exitCode(t, exec, 0);
  const executed = w.cfn.calls().filter((c) => c.startsWith('ExecuteChangeSet')).map(stackOf).sort();
  t.same(executed, ['saleday-test-network', 'saleday-test-service-catalog']);
  t.notOk(w.cfn.calls().some((c) => c.startsWith('CreateChangeSet')), 'no new change set: exactly the reviewed ones');
  t.match(w.cfn.stacks.get('saleday-test-network')!.templateBody, /10\.5\.0\.0\/16/);
  t.match(exec.text, /ok: \[stack database\] no reviewed change set: nothing to execute/);

  // Review again, then someone deploys the network before the approval: refused.
  const again = stackSource({ cidr: '10.6.0.0/16', catalogMax: '4' });
  await run('deploy', ['-i', 'test.yaml', '--check', '--keep-change-sets'], env(again));
  await run('deploy', ['-i', 'test.yaml', '--yes', '--tags', 'network'], env(stackSource({ cidr: '10.8.0.0/16', catalogMax: '4' })));
  w.cfn.mock.resetHistory();
  const moved = await run('deploy', ['-i', 'test.yaml', '--execute-reviewed'], env(again));
  t.equal(moved.code, 2);
  t.match(moved.text, /failed: \[stack network\] saleday-test-network changed since the review .*Review again with --check --keep-change-sets/);
  t.notOk(w.cfn.calls().some((c) => c.startsWith('ExecuteChangeSet')), 'nothing executed');
});

t.test('--review-md writes the reviews as Markdown', async (t) => {
  const file = join(root, 'review.md');
  const r = await run('deploy', ['-i', 'test.yaml', '--check', '--review-md', file], env());
  t.equal(r.code, 0);
  const md = (await import('node:fs')).readFileSync(file, 'utf8');
  t.match(md, /^## saleday test: change-set review/);
  t.match(md, /### `saleday-test-network`: change set `saleday-[0-9a-f]+` \(new stack\)/);
  t.match(md, /\| Add \| Vpc \| AWS::EC2::VPC \| +\| +\|/);
});

t.test('an approval is needed without a TTY or --yes', async (t) => {
  const r = await run('deploy', ['-i', 'test.yaml'], env());
  t.equal(r.code, 2);
  t.match(r.text, /failed: \[stack network\] Execute change set saleday-[0-9a-f]+ on saleday-test-network \(1 to add\)\?: not approved \(no terminal to ask and no --yes\)\. Re-run with --yes/);
  t.match(r.text, /PLAY RECAP/);
  t.same(w.mutations().filter((c) => !/cfn:(Create|Delete)ChangeSet/.test(c)), []);
});

t.test('a deploy during a sale event names it and needs it named with -e during-sale (--yes alone is not enough)', async (t) => {
  const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const event = { ...inventory.saleEvents[1]!, name: 'flash-sale', start: iso(Date.now() + 10 * 60_000), end: iso(Date.now() + 3_600_000) };
  const underWay = { ...inventory, saleEvents: [event] };
  const refused = await run('deploy', ['-i', 'test.yaml', '--yes'], { ...env(), inventory: underWay });
  exitCode(t, refused, 2);
  t.match(refused.text, /warning: scaling: saleEvents\[0\]: flash-sale is under way until /, 'the preflight warns of it');
  t.match(refused.text, /failed: \[sale events\] sale event flash-sale \(until [^)]+\) is under way: nothing deployed\. Deploy after it ends, or re-run with -e during-sale=flash-sale to deploy during it/);
  t.same(w.mutations(), [], 'nothing changed');

  const file = join(root, 'review-sale.md');
  const check = await run('deploy', ['-i', 'test.yaml', '--check', '--review-md', file], { ...env(), inventory: underWay });
  exitCode(t, check, 0);
  t.match(check.text, /changed: \[sale events\] sale event flash-sale \(until [^)]+\) is under way: a deploy needs -e during-sale=flash-sale/);
  t.match((await import('node:fs')).readFileSync(file, 'utf8'), /> \*\*Sale event flash-sale is under way \(until [^)]+\): these changes land on a shop under sale load\.\*\*/, 'the review names the event');

  const approved = await run('deploy', ['-i', 'test.yaml', '--yes', '-e', 'during-sale=flash-sale'], { ...env(), inventory: underWay });
  exitCode(t, approved, 0);
  t.match(approved.text, /changed: \[sale events\] deploying during sale event flash-sale \(until [^)]+\): approved with -e during-sale=flash-sale/);
});

t.test('the AMI is pinned: latest for a new stack, kept after, moved only with -e ami=latest or the inventory', async (t) => {
  const base = stackSource();
  const source = {
    ...base,
    render: () => base.render().map((s) => (s.service
      ? { ...s, template: { ...s.template, Parameters: { ...s.template.Parameters, ImageId: { Type: 'AWS::EC2::Image::Id', Description: 'AMI' } } }, inputs: { ...s.inputs, ImageId: { from: 'image' as const, architecture: 'arm64' as const } } }
      : s)),
  };
  type Input = { StackName?: string; Parameters?: Array<{ ParameterKey?: string; ParameterValue?: string }> };
  const imageOf = (stack: string): string | undefined => {
    const calls = w.cfn.mock.commandCalls(CreateChangeSetCommand).map((c): Input => c.args[0].input).filter((i) => i.StackName === stack);
    return calls.at(-1)?.Parameters?.find((p) => p.ParameterKey === 'ImageId')?.ParameterValue;
  };
  const latest = '/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64';

  const first = await run('deploy', ['-i', 'test.yaml', '--yes'], env(source));
  exitCode(t, first, 0);
  t.equal(imageOf('saleday-test-service-orders'), 'ami-0a1b2c3d4e5f60001', 'a new stack gets the latest AL2023 AMI');
  t.match(first.text, /saleday-test-service-orders: AMI ami-0a1b2c3d4e5f60001 \(the latest Amazon Linux 2023, arm64\)/);

  w.ssm.parameters.set(latest, 'ami-0a1b2c3d4e5f60009');
  const second = await run('deploy', ['-i', 'test.yaml', '--yes'], env(source));
  exitCode(t, second, 0);
  t.equal(imageOf('saleday-test-service-orders'), 'ami-0a1b2c3d4e5f60001', '"latest" moved, the stack keeps its AMI');
  t.match(second.text, /saleday-test-service-orders: AMI keeps ami-0a1b2c3d4e5f60001; the latest Amazon Linux 2023 is ami-0a1b2c3d4e5f60009 \(-e ami=latest rolls the group onto it\)/);
  t.notMatch(second.text, /changed: \[stack service-/, 'no service stack changes');

  const file = join(root, 'review-ami.md');
  const moved = await run('deploy', ['-i', 'test.yaml', '--check', '-e', 'ami=latest', '--review-md', file], env(source));
  exitCode(t, moved, 0);
  t.equal(imageOf('saleday-test-service-orders'), 'ami-0a1b2c3d4e5f60009', '-e ami=latest moves it');
  t.match((await import('node:fs')).readFileSync(file, 'utf8'), /saleday-test-service-orders: the AMI changes, ami-0a1b2c3d4e5f60001 → ami-0a1b2c3d4e5f60009 \(the latest, -e ami=latest\): the group rolls onto it\./, 'the review says the group rolls');

  const pinned = await run('deploy', ['-i', 'test.yaml', '--check'], { ...env(source), inventory: { ...inventory, ami: 'ami-0123456789abcdef0' } });
  exitCode(t, pinned, 0);
  t.equal(imageOf('saleday-test-service-users'), 'ami-0123456789abcdef0', "the inventory's ami wins");
  t.match(pinned.text, /AMI ami-0a1b2c3d4e5f60001 → ami-0123456789abcdef0 \(the inventory's ami\): the group rolls onto it/);
});

t.test('-e now= is for render only: a deploy always uses the clock', async (t) => {
  const r = await run('deploy', ['-i', 'test.yaml', '--check', '-e', 'now=2027-01-01T00:00:00Z'], env());
  t.equal(r.code, 1);
  t.same(r.errors, ['error: -e now=2027-01-01T00:00:00Z: only render takes another time; deploy always uses the clock']);
  t.same(w.mutations(), []);
});
