// deploy with the real renderers and inventories (cloudformation/, playbooks/inventories/) against
// the AWS fakes: every parameter finds its value among the declared inputs, the stacks go in
// order, a second run reports every task ok; the local inventory renders and validates.
import t from 'tap';
import { rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { CreateChangeSetCommand } from '@aws-sdk/client-cloudformation';
import { loadEnvironment } from '../../environment/index.js';
import { renderedStacks } from '../../playbooks/lib/stack-source.js';
import { artifactRoot } from '../fixtures/aws-play.js';
import { publicSite, run, world } from './harness.js';

process.env.AWS_ACCESS_KEY_ID = 'AKIDEXAMPLE';
process.env.AWS_SECRET_ACCESS_KEY = 'not-a-real-secret';
delete process.env.AWS_ENDPOINT_URL;

const repo = fileURLToPath(new URL('../..', import.meta.url));
const root = await artifactRoot();
const site = await publicSite();
t.teardown(async () => {
  site.server.close();
  await rm(root, { recursive: true, force: true });
});

t.test('staging from the real renderers: deployed in order, then nothing to change', async (t) => {
  const w = world();
  t.teardown(() => w.restore());
  w.cfn.outputValues.set('SiteUrl', site.url);
  const inv = await loadEnvironment(`${repo}/playbooks/inventories/staging.yaml`);
  const env = { inventory: inv, source: renderedStacks(inv, root), root };
  const first = await run('deploy', ['-i', 'staging.yaml', '--yes'], env);
  if (first.code !== 0) t.comment(first.text);
  t.equal(first.code, 0, 'first deploy');
  const stacks = w.cfn.mock.commandCalls(CreateChangeSetCommand).map((c) => c.args[0].input.StackName);
  t.equal(stacks[0], 'saleday-staging-network');
  t.same(stacks.slice(1, 5).sort(), ['saleday-staging-cache', 'saleday-staging-database', 'saleday-staging-load-balancer', 'saleday-staging-loadgen'], 'then the database, the cache, the load balancer and loadgen');
  // The bootstrap, the services and the static site share a wave (the bootstrap first in it, so its
  // function runs before the service stacks; the rest in parallel, in any order); monitoring is last.
  t.equal(stacks[5], 'saleday-staging-bootstrap');
  t.same(stacks.slice(6, -1).sort(), ['saleday-staging-service-catalog', 'saleday-staging-service-inventory', 'saleday-staging-service-orders', 'saleday-staging-service-users', 'saleday-staging-static-site']);
  t.equal(stacks.at(-1), 'saleday-staging-monitoring');
  const second = await run('deploy', ['-i', 'staging.yaml', '--yes'], env);
  t.match(second.text, /changed=0 {2}skipped=0 {2}failed=0/, 'second run: every task ok');
});
