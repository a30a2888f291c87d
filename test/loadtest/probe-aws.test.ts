// The AWS scaling probe against scripted AWS answers (aws-sdk-client-mock): groups found by tags,
// sizes, scaling activities, load-balancer metrics, and the unhappy states (no groups, throttling,
// access denied, missing credentials) turned into sentences that say what to do.
import {
  AutoScalingClient,
  DescribeAutoScalingGroupsCommand,
  DescribeScalingActivitiesCommand,
} from '@aws-sdk/client-auto-scaling';
import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { mockClient } from 'aws-sdk-client-mock';
import t from 'tap';
import { AwsProbe } from '../../loadtest/lib/probes/aws.js';

const asg = mockClient(AutoScalingClient);
const cw = mockClient(CloudWatchClient);
t.beforeEach(() => {
  asg.reset();
  cw.reset();
});

const group = (service: string, name: string, inService: number, desired: number) => ({
  AutoScalingGroupName: name,
  MinSize: 2,
  MaxSize: 12,
  DesiredCapacity: desired,
  DefaultCooldown: 300,
  AvailabilityZones: ['eu-west-1a'],
  HealthCheckType: 'ELB',
  CreatedTime: new Date(0),
  Tags: [
    { Key: 'Project', Value: 'saleday' },
    { Key: 'Environment', Value: 'production' },
    { Key: 'Service', Value: service },
  ],
  Instances: [
    ...Array.from({ length: inService }, (_, i) => ({ InstanceId: `i-${name}-${i}`, LifecycleState: 'InService' as const, AvailabilityZone: 'eu-west-1a', HealthStatus: 'Healthy', ProtectedFromScaleIn: false })),
    { InstanceId: `i-${name}-new`, LifecycleState: 'Pending' as const, AvailabilityZone: 'eu-west-1a', HealthStatus: 'Healthy', ProtectedFromScaleIn: false },
  ],
});

const probe = () =>
  new AwsProbe({ region: 'eu-west-1', environment: 'production', loadBalancer: 'app/saleday-production/0123abcd', autoScaling: new AutoScalingClient({ region: 'eu-west-1' }), cloudWatch: new CloudWatchClient({ region: 'eu-west-1' }) });

t.test('finds the groups by tag (across pages) and samples their sizes', async (t) => {
  asg
    .on(DescribeAutoScalingGroupsCommand, { NextToken: undefined, Filters: [{ Name: 'tag:Project', Values: ['saleday'] }, { Name: 'tag:Environment', Values: ['production'] }] })
    .resolves({ AutoScalingGroups: [group('catalog', 'sd-catalog', 3, 4)], NextToken: 'p2' })
    .on(DescribeAutoScalingGroupsCommand, { NextToken: 'p2' })
    .resolves({ AutoScalingGroups: [group('orders', 'sd-orders', 2, 2)] })
    .on(DescribeAutoScalingGroupsCommand, { AutoScalingGroupNames: ['sd-catalog', 'sd-orders'] })
    .resolves({ AutoScalingGroups: [group('catalog', 'sd-catalog', 5, 6), group('orders', 'sd-orders', 2, 2)] });
  const p = probe();
  t.same(await p.sample(), {
    catalog: { inService: 5, desired: 6, min: 2, max: 12 },
    orders: { inService: 2, desired: 2, min: 2, max: 12 },
  }, 'InService instances only: pending ones are not capacity yet');
  await p.sample();
  t.equal(asg.commandCalls(DescribeAutoScalingGroupsCommand, { NextToken: 'p2' }).length, 1, 'groups are discovered once');
  t.match(p.describe(), /production in eu-west-1, ALB app\/saleday-production\/0123abcd/);
});

t.test('scaling activities of the run, with from and to read from the cause', async (t) => {
  asg.on(DescribeAutoScalingGroupsCommand).resolves({ AutoScalingGroups: [group('catalog', 'sd-catalog', 3, 3)] });
  const at = (s: number) => new Date(Date.UTC(2025, 10, 28, 9, 0, s));
  asg.on(DescribeScalingActivitiesCommand, { AutoScalingGroupName: 'sd-catalog', NextToken: undefined }).resolves({
    Activities: [
      { ActivityId: 'a3', AutoScalingGroupName: 'sd-catalog', Cause: 'At 2025-11-28T09:00:50Z a monitor alarm TargetTracking-AlarmLow in state ALARM triggered policy cpu changing the desired capacity from 6 to 3.', StartTime: at(50), StatusCode: 'Successful' },
      { ActivityId: 'a2', AutoScalingGroupName: 'sd-catalog', Cause: 'an instance was taken out of service in response to an ELB system health check failure', StartTime: at(30), StatusCode: 'Successful' },
    ],
    NextToken: 'more',
  });
  asg.on(DescribeScalingActivitiesCommand, { AutoScalingGroupName: 'sd-catalog', NextToken: 'more' }).resolves({
    Activities: [
      { ActivityId: 'a1', AutoScalingGroupName: 'sd-catalog', Cause: 'At 2025-11-28T09:00:10Z a monitor alarm TargetTracking-AlarmHigh triggered policy cpu changing the desired capacity from 3 to 6.', StartTime: at(10), StatusCode: 'Successful' },
      { ActivityId: 'a0', AutoScalingGroupName: 'sd-catalog', Cause: 'before the run: changing the desired capacity from 2 to 3.', StartTime: at(0), StatusCode: 'Successful' },
    ],
    NextToken: 'never-read',
  });
  const list = await probe().activities(at(5), at(60));
  t.same(list.map((a) => [a.time, a.service, a.from, a.to]), [
    ['2025-11-28T09:00:10.000Z', 'catalog', 3, 6],
    ['2025-11-28T09:00:50.000Z', 'catalog', 6, 3],
  ]);
  t.equal(asg.commandCalls(DescribeScalingActivitiesCommand).length, 2, 'paging stops at activities older than the run');
});

t.test('load-balancer request count and p99 from CloudWatch', async (t) => {
  const t0 = new Date(Date.UTC(2025, 10, 28, 9, 0, 0));
  const t1 = new Date(Date.UTC(2025, 10, 28, 9, 1, 0));
  cw.on(GetMetricDataCommand).resolves({
    MetricDataResults: [
      { Id: 'requests', Timestamps: [t0, t1], Values: [12000, 30000] },
      { Id: 'p99', Timestamps: [t0, t1], Values: [0.12, 0.45] },
    ],
  });
  const m = await probe().metrics(t0, t1);
  t.same(m, { periodSeconds: 60, points: [{ time: t0.toISOString(), requests: 12000, p99Ms: 120 }, { time: t1.toISOString(), requests: 30000, p99Ms: 450 }] });
  const input = cw.commandCalls(GetMetricDataCommand)[0]!.args[0].input;
  t.same(input.MetricDataQueries?.map((q) => [q.MetricStat?.Metric?.MetricName, q.MetricStat?.Stat, q.MetricStat?.Metric?.Dimensions?.[0]?.Value]), [
    ['RequestCount', 'Sum', 'app/saleday-production/0123abcd'],
    ['TargetResponseTime', 'p99', 'app/saleday-production/0123abcd'],
  ]);
  const without = new AwsProbe({ region: 'eu-west-1', environment: 'production', autoScaling: new AutoScalingClient({}), cloudWatch: new CloudWatchClient({}) });
  t.equal(await without.metrics(t0, t1), undefined, 'no load balancer, no metrics (and no call)');
  t.equal(cw.commandCalls(GetMetricDataCommand).length, 1);
});

t.test('unhappy states say what to do', async (t) => {
  asg.on(DescribeAutoScalingGroupsCommand).resolves({ AutoScalingGroups: [] });
  await t.rejects(probe().sample(), { message: /no Auto Scaling group tagged Project=saleday, Environment=production .* in eu-west-1: is the environment deployed\?/ });

  asg.reset();
  asg.on(DescribeAutoScalingGroupsCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'Throttling' }));
  await t.rejects(probe().sample(), { message: 'DescribeAutoScalingGroups: throttled by AWS (Throttling); the next sample tries again' });

  asg.reset();
  asg.on(DescribeAutoScalingGroupsCommand).rejects(Object.assign(new Error('User is not authorized to perform autoscaling:DescribeAutoScalingGroups'), { name: 'AccessDenied' }));
  await t.rejects(probe().sample(), { message: /AWS refused it \(AccessDenied\); the harness's credentials need autoscaling:Describe\* and cloudwatch:GetMetricData/ });

  asg.reset();
  asg.on(DescribeAutoScalingGroupsCommand).rejects(Object.assign(new Error('Could not load credentials from any providers'), { name: 'CredentialsProviderError' }));
  await t.rejects(probe().sample(), { message: /no AWS credentials; set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY/ });

  cw.on(GetMetricDataCommand).rejects(Object.assign(new Error('boom'), { name: 'InternalFailure' }));
  await t.rejects(probe().metrics(new Date(0), new Date(1)), { message: 'GetMetricData: InternalFailure: boom' });
});

t.test('a throttled sample does not end the probe: the next one works', async (t) => {
  asg
    .on(DescribeAutoScalingGroupsCommand, { NextToken: undefined })
    .resolves({ AutoScalingGroups: [group('catalog', 'sd-catalog', 3, 3)] })
    .on(DescribeAutoScalingGroupsCommand, { AutoScalingGroupNames: ['sd-catalog'] })
    .rejectsOnce(Object.assign(new Error('Rate exceeded'), { name: 'Throttling' }))
    .resolves({ AutoScalingGroups: [group('catalog', 'sd-catalog', 4, 4)] });
  const p = probe();
  await t.rejects(p.sample(), { message: /throttled/ });
  t.same(await p.sample(), { catalog: { inService: 4, desired: 4, min: 2, max: 12 } });
});
