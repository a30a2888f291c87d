// The deploy order comes from the stacks' inputs: a throwaway stack registered beside the shop's (not
// in cloudformation/) that takes an output of the network stack is deployed by the unchanged deploy
// play in the wave after network, next to the database and the load balancer, and gets the
// network's output as its parameter. The waves themselves, and refusals of stacks that cannot be
// ordered.
import { rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { CreateChangeSetCommand } from '@aws-sdk/client-cloudformation';
import {
  deployWaves, NETWORK, renderStacks, SHOP_STACKS, StackBuilder, type RenderedStack, type StackRegistration,
} from '../../cloudformation/index.js';
import { loadEnvironment, type Environment } from '../../environment/index.js';
import { renderedStacks } from '../../playbooks/lib/stack-source.js';
import { artifactRoot } from '../fixtures/aws-play.js';
import { publicSite, run, world } from './harness.js';

process.env.AWS_ACCESS_KEY_ID = 'AKIDEXAMPLE';
process.env.AWS_SECRET_ACCESS_KEY = 'not-a-real-secret';
delete process.env.AWS_ENDPOINT_URL;

/** Where auditors find the VPC: it takes the network stack's VpcId. */
function renderAuditLog(inv: Environment): RenderedStack {
  const t = new StackBuilder(inv, 'audit-log', 'The VPC id, published for auditors.');
  const vpc = t.param('VpcId', { Type: 'AWS::EC2::VPC::Id', Description: 'The VPC (network stack output VpcId)' }, NETWORK.VpcId);
  t.resource('AuditedVpc', { Type: 'AWS::SSM::Parameter', Properties: { Type: 'String', Name: `/${t.prefixed('audit')}/vpc`, Value: vpc, Tags: t.tagMap() } });
  t.output('AuditedVpcParameter', 'Where auditors read the VPC id', { Ref: 'AuditedVpc' });
  return t.build();
}
const stacks: StackRegistration[] = [...SHOP_STACKS, { source: 'audit-log', render: renderAuditLog }];

const repo = fileURLToPath(new URL('../..', import.meta.url));
const inv = await loadEnvironment(`${repo}/playbooks/inventories/staging.yaml`);

t.test('waves: each stack after the stacks whose outputs it takes, in registration order within a wave', (t) => {
  const names = (waves: RenderedStack[][]) => waves.map((w) => w.map((s) => s.name));
  t.same(names(deployWaves(renderStacks(inv, { stacks }))), [
    ['network'],
    ['database', 'cache', 'load-balancer', 'loadgen', 'audit-log'],
    ['bootstrap', 'service-users', 'service-catalog', 'service-inventory', 'service-orders', 'static-site'],
    ['monitoring'],
  ]);
  const stack = (name: string, ...from: string[]) => ({ name, inputs: Object.fromEntries(from.map((s) => [`From${s}`, { from: 'output' as const, stack: s, output: 'X' }])) });
  t.throws(() => deployWaves([stack('a', 'b'), stack('b', 'a'), stack('c')]), /a, b take outputs of each other: no order deploys them/);
  t.throws(() => deployWaves([stack('a', 'nowhere')]), /a takes outputs of nowhere, which is not rendered/);
  t.end();
});

t.test('a registered stack that takes a network output deploys in the wave after network, the play unchanged', async (t) => {
  const root = await artifactRoot();
  const site = await publicSite();
  const w = world();
  t.teardown(async () => {
    w.restore();
    site.server.close();
    await rm(root, { recursive: true, force: true });
  });
  w.cfn.outputValues.set('SiteUrl', site.url);
  const r = await run('deploy', ['-i', 'staging.yaml', '--yes'], { inventory: inv, source: renderedStacks(inv, root, { stacks }), root });
  if (r.code !== 0) t.comment(r.text);
  t.equal(r.code, 0, 'deployed');
  t.match(r.text, /ok: \[deploy order\] 4 waves: network \| database, cache, load-balancer, loadgen, audit-log \| bootstrap, service-users, .*, static-site \| monitoring/);
  t.match(r.text, /changed: \[stack audit-log\] created: 1 added/);

  const calls = w.cfn.calls();
  const at = (call: string) => calls.findIndex((c) => c.startsWith(call));
  t.ok(at('ExecuteChangeSet saleday-staging-network') < at('CreateChangeSet saleday-staging-audit-log'), 'after the network is deployed');
  t.ok(at('CreateChangeSet saleday-staging-audit-log') < at('ExecuteChangeSet saleday-staging-database'), 'beside the database (same wave)');
  t.ok(at('CreateChangeSet saleday-staging-audit-log') < at('CreateChangeSet saleday-staging-service-users'), 'before the services');
  const input = w.cfn.mock.commandCalls(CreateChangeSetCommand).map((c) => c.args[0].input).find((i) => i.StackName === 'saleday-staging-audit-log')!;
  t.same(input.Parameters, [{ ParameterKey: 'VpcId', ParameterValue: 'saleday-staging-network:VpcId' }], "the network's output became its parameter");
});
