// Capacity in seconds (issue 14 item 7): every service group of staging and production has a warm
// pool sized from its inventory, a launch hook that holds an instance until it reported /readyz,
// and the permissions the readiness report needs (its own group's hook only).
import t from 'tap';
import { SERVICE_NAMES } from '../../environment/index.js';
import { renderStacks } from '../../cloudformation/index.js';
import { loadEnvironment } from '../../environment/index.js';
import { inventoryFile, ofType, rendered } from './fixtures.js';

for (const env of ['production', 'staging'] as const) {
  const r = await rendered(env);
  t.test(`${env}: a warm pool on every service group, sized from the inventory`, (t) => {
    for (const service of SERVICE_NAMES) {
      const x = r.stack(`service-${service}`).template;
      const pool = r.inv.services[service].scaling.warmPool!;
      t.ok(pool, `${service}: the inventory sizes a warm pool`);
      const pools = ofType(x, 'AWS::AutoScaling::WarmPool');
      t.equal(pools.length, 1, `${service}: one warm pool`);
      t.match(pools[0]![1].Properties, { AutoScalingGroupName: { Ref: 'AutoScalingGroup' }, MinSize: pool.minSize, PoolState: pool.state, InstanceReusePolicy: { ReuseOnScaleIn: false } }, `${service}: ${pool.minSize} ${pool.state}`);
      const asg = x.Resources.AutoScalingGroup!.Properties!;
      t.match(asg.LifecycleHookSpecificationList, [{ LifecycleHookName: 'instance-ready', LifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING', DefaultResult: 'ABANDON' }], `${service}: held until ready, abandoned otherwise`);
      t.notOk(asg.MixedInstancesPolicy, `${service}: no Spot mix (AWS refuses a warm pool beside one)`);
      const role = JSON.stringify(x.Resources.InstanceRole!.Properties!.Policies);
      t.match(role, /"autoscaling:CompleteLifecycleAction","Resource":\{"Fn::Sub":"arn:\$\{AWS::Partition\}:autoscaling:\$\{AWS::Region\}:\$\{AWS::AccountId\}:autoScalingGroup:\*:autoScalingGroupName\/\$\{AWS::StackName\}-AutoScalingGroup-\*"\}/, `${service}: completes its own group's hook only`);
    }
    t.end();
  });
}

t.test('options: maxPrepared, Hibernated; no warm pool, no hook', async (t) => {
  const base = await loadEnvironment(inventoryFile('staging'));
  const edited = {
    ...base,
    services: {
      ...base.services,
      orders: { ...base.services.orders, scaling: { ...base.services.orders.scaling, warmPool: { minSize: 2, maxPrepared: 4, state: 'Hibernated' as const } } },
      users: { ...base.services.users, scaling: { ...base.services.users.scaling, warmPool: undefined } },
    },
  };
  const stacks = renderStacks(edited);
  const orders = stacks.find((s) => s.service === 'orders')!.template;
  t.match(orders.Resources.WarmPool!.Properties, { MinSize: 2, MaxGroupPreparedCapacity: 4, PoolState: 'Hibernated' });
  t.match(orders.Resources.LaunchTemplate!.Properties!.LaunchTemplateData, { HibernationOptions: { Configured: true } }, 'hibernation configured for a hibernated pool');
  const users = stacks.find((s) => s.service === 'users')!.template;
  t.notOk(users.Resources.WarmPool, 'no warm pool when the inventory has none');
  t.notOk(users.Resources.AutoScalingGroup!.Properties!.LifecycleHookSpecificationList, 'and no launch hook to complete');
  t.notMatch(JSON.stringify(users.Resources.InstanceRole), /CompleteLifecycleAction/, 'nor the permission');
});
