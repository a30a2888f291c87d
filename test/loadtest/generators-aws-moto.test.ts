// Generators on AWS against the emulator (issue 17): the launcher starts one ECS task per shard on
// a moto cluster and task definition registered here, and waits, merges and judges as one run.
// moto runs no container: this test plays each task's part with the harness's own task side
// (ShardReporter over moto's S3, runProfile against a small HTTP server), reading what the task
// was given from the task's container overrides, and stops the task when its shard is done, as the
// container's exit would. What moto cannot do (states over time, failures, throttling, Ctrl-C) is
// in generators-aws.test.ts.
import { AutoScalingClient, CreateAutoScalingGroupCommand, CreateLaunchConfigurationCommand } from '@aws-sdk/client-auto-scaling';
import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { CreateSecurityGroupCommand, CreateSubnetCommand, CreateVpcCommand, EC2Client, ModifyVpcAttributeCommand } from '@aws-sdk/client-ec2';
import { CreateClusterCommand, DescribeTasksCommand, ECSClient, ListTasksCommand, RegisterTaskDefinitionCommand, StopTaskCommand } from '@aws-sdk/client-ecs';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import t from 'tap';
import { ecsApi, objectStore } from '../../loadtest/lib/generators/aws-api.js';
import { parseS3Url } from '../../loadtest/lib/generators/aws-layout.js';
import { ShardReporter } from '../../loadtest/lib/generators/aws-task.js';
import { runAwsGenerators } from '../../loadtest/lib/generators/aws.js';
import type { LoadgenPlacement } from '../../loadtest/lib/generators/placement.js';
import { AwsProbe } from '../../loadtest/lib/probes/aws.js';
import { parseProfile } from '../../loadtest/lib/profile/load.js';
import { Progress } from '../../loadtest/lib/progress.js';
import { decode, newHistogram } from '../../loadtest/lib/recorder.js';
import type { RunResult } from '../../loadtest/lib/result.js';
import { runProfile } from '../../loadtest/lib/runner.js';
import { parseShard } from '../../loadtest/lib/schedule.js';
import { startMoto } from '../helpers/moto.js';
import { json, runCli, startServer, tempDir, until, writeProfile } from './helpers.js';

const PROFILE = `name: aws-moto\nseed: 9\nmaxInFlight: 8\ndrain: 2s\nphases:\n  - { name: flat, duration: 2s, rate: 30 }\njourneys:\n  - name: one\n    weight: 100\n    steps:\n      - name: get\n        request: GET /thing\nthresholds:\n  - { metric: errorRate, max: 1% }\n`;
const RUN = 'motorun1';
const BUCKET = 'saleday-moto-artifacts';

t.test('two generator tasks on a moto ECS cluster: launched with their shares, results in S3, merged as one run', async (t) => {
  const moto = await startMoto(t);
  const cfg = moto.clientConfig();
  const ecs = new ECSClient(cfg);
  const s3 = new S3Client(cfg);
  const ec2 = new EC2Client(cfg);
  // moto moves a task to STOPPED on its first DescribeTasks unless told otherwise: here a task
  // stays RUNNING until it is stopped, as a container that runs until its harness ends.
  const set = await fetch(`${moto.endpoint}/moto-api/state-manager/set-transition`, {
    method: 'POST',
    body: JSON.stringify({ model_name: 'ecs::task', transition: { progression: 'manual', times: 1_000_000 } }),
  });
  t.equal(set.status, 201, await set.text());

  const vpc = await ec2.send(new CreateVpcCommand({ CidrBlock: '10.40.0.0/16' }));
  // DNS hostnames on, as the network stack's VPC has them (moto names each task's ENI from it).
  await ec2.send(new ModifyVpcAttributeCommand({ VpcId: vpc.Vpc!.VpcId!, EnableDnsHostnames: { Value: true } }));
  const subnet = await ec2.send(new CreateSubnetCommand({ VpcId: vpc.Vpc!.VpcId!, CidrBlock: '10.40.1.0/24', AvailabilityZone: 'eu-west-1a' }));
  const sg = await ec2.send(new CreateSecurityGroupCommand({ VpcId: vpc.Vpc!.VpcId!, GroupName: 'loadgen', Description: 'load generators' }));
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET, CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' } }));
  await ecs.send(new CreateClusterCommand({ clusterName: 'saleday-moto-loadgen' }));
  const td = await ecs.send(
    new RegisterTaskDefinitionCommand({
      family: 'saleday-moto-loadgen',
      networkMode: 'awsvpc',
      requiresCompatibilities: ['FARGATE'],
      cpu: '1024',
      memory: '2048',
      // Container cpu and memory too: moto sums the containers' to place a task (the stack sets the task's only).
      containerDefinitions: [{ name: 'generator', image: 'public.ecr.aws/docker/library/node:22-bookworm-slim', essential: true, cpu: 1024, memory: 2048 }],
    }),
  );
  const placement: LoadgenPlacement = {
    region: moto.region,
    cluster: 'saleday-moto-loadgen',
    taskDefinitionArn: td.taskDefinition!.taskDefinitionArn!,
    container: 'generator',
    subnets: [subnet.Subnet!.SubnetId!],
    securityGroups: [sg.GroupId!],
    artifact: { bucket: BUCKET, key: 'artifacts/loadgen/0123abcd.tgz', sha256: '0123abcd' },
    results: { bucket: BUCKET, prefix: 'loadgen-results/' },
    logGroup: '/saleday/moto/loadgen',
  };
  // One service's Auto Scaling group, tagged as the stacks tag theirs: the launcher's probe watches it.
  const asg = new AutoScalingClient(cfg);
  await asg.send(new CreateLaunchConfigurationCommand({ LaunchConfigurationName: 'saleday-moto-catalog', ImageId: 'ami-12c6146b', InstanceType: 't3.micro' }));
  await asg.send(
    new CreateAutoScalingGroupCommand({
      AutoScalingGroupName: 'saleday-moto-catalog',
      LaunchConfigurationName: 'saleday-moto-catalog',
      MinSize: 1,
      MaxSize: 4,
      DesiredCapacity: 1,
      VPCZoneIdentifier: subnet.Subnet!.SubnetId!,
      Tags: [
        { Key: 'Project', Value: 'saleday', PropagateAtLaunch: true },
        { Key: 'Environment', Value: 'moto', PropagateAtLaunch: true },
        { Key: 'Service', Value: 'catalog', PropagateAtLaunch: true },
      ],
    }),
  );
  const probe = new AwsProbe({ region: moto.region, environment: 'moto', autoScaling: asg, cloudWatch: new CloudWatchClient(cfg) });
  const { url } = await startServer(t, (_req, res) => json(res, 200, { ok: true }));
  const profile = parseProfile(PROFILE, 'loadtest/profiles/aws-moto.yaml');

  const lines: string[] = [];
  const launcher = runAwsGenerators({
    placement,
    ecs: ecsApi(ecs),
    store: objectStore(s3),
    count: 2,
    runId: RUN,
    profile,
    harnessArgs: ['--profile', 'loadtest/profiles/aws-moto.yaml', '--target', url],
    spot: false,
    progress: new (class extends Progress {
      override line(text: string): void {
        lines.push(text);
      }
    })(process.stderr, true),
    pollMs: 100,
    startMarginMs: 500,
    probe,
  });
  const failed = launcher.then(() => undefined, (e: unknown) => e);

  // The tasks' part: what each was given, then its shard, reported to S3 as the harness does.
  let arns: string[] = [];
  await until(async () => {
    const early = await Promise.race([failed, Promise.resolve(undefined)]);
    if (early) throw new Error(`the launcher failed: ${(early as Error).message}\n${moto.log().slice(-3000)}`);
    arns = (await ecs.send(new ListTasksCommand({ cluster: placement.cluster }))).taskArns ?? [];
    return arns.length === 2;
  }, 30_000, 'two tasks in the moto cluster');
  const tasks = (await ecs.send(new DescribeTasksCommand({ cluster: placement.cluster, tasks: arns }))).tasks ?? [];
  t.equal(tasks.length, 2);
  const shards = await Promise.all(
    tasks.map(async (task) => {
      const env = Object.fromEntries((task.overrides?.containerOverrides?.[0]?.environment ?? []).map((e) => [e.name, e.value]));
      t.match(env, { ARTIFACT_BUCKET: BUCKET, ARTIFACT_KEY: 'artifacts/loadgen/0123abcd.tgz', ARTIFACT_SHA256: '0123abcd' });
      const args = JSON.parse(env.HARNESS_ARGS ?? '[]') as string[];
      const arg = (name: string): string => args[args.indexOf(name) + 1]!;
      t.equal(arg('--target'), url);
      t.equal(arg('--run-id'), RUN);
      const reporter = new ShardReporter({ store: objectStore(s3), folder: parseS3Url(arg('--results-s3'))!, startPollMs: 50 });
      await reporter.begin();
      const result = await runProfile({
        profile,
        target: { kind: 'url', url, label: url, probe: undefined },
        shard: parseShard(arg('--shard'))!,
        runId: arg('--run-id'),
        progress: reporter.progress(new Progress(process.stderr, true)),
        ready: () => reporter.ready(parseS3Url(arg('--start-at'))!),
      });
      await reporter.finish(result);
      await ecs.send(new StopTaskCommand({ cluster: placement.cluster, task: task.taskArn!, reason: 'Essential container in task exited' }));
      return { shard: arg('--shard'), result };
    }),
  );
  t.same(shards.map((s) => s.shard).sort(), ['1/2', '2/2'], 'each task was given its own share');
  const merged = await launcher;

  // The results the tasks left in moto's S3 are what was merged.
  for (const s of shards) {
    const [i, n] = s.shard.split('/');
    const obj = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: `loadgen-results/${RUN}/${i}-of-${n}/result.json` }));
    t.equal((JSON.parse(await obj.Body!.transformToString()) as RunResult).processes[0]!.shard, s.shard);
  }
  const requests = (r: RunResult): number => Object.values(r.recording.endpoints).reduce((a, e) => a + e.requests, 0);
  t.equal(requests(merged), shards.reduce((a, s) => a + requests(s.result), 0), 'merged requests = the sum of the shards\'');
  t.equal(merged.phases[0]!.scheduled, shards.reduce((a, s) => a + s.result.phases[0]!.scheduled, 0), 'merged schedule = the sum of the shares');
  t.equal(merged.phases[0]!.scheduled, 60);
  const both = newHistogram();
  for (const s of shards) both.add(decode(s.result.recording.latency));
  const h = decode(merged.recording.latency);
  t.equal(h.totalCount, requests(merged), 'every request is in the merged histogram');
  for (const p of [50, 90, 99]) t.equal(h.getValueAtPercentile(p), both.getValueAtPercentile(p), `p${p} from the merged HDR`);
  t.same(merged.generators!.map((g) => [g.shard, g.state]), [['1/2', 'ok'], ['2/2', 'ok']]);
  t.match(merged.generators![0]!.where, /^task [0-9a-f-]+/);
  t.equal(merged.passed, true, JSON.stringify(merged.verdicts));
  // The launcher, not the tasks, watched the emulator's group.
  t.match(merged.fleet, { probe: 'AWS Auto Scaling groups of moto in eu-west-1', errors: [] });
  t.ok(merged.fleet.samples.length >= 1, 'the launcher sampled the group');
  t.match(merged.fleet.samples[0]!.services, { catalog: { inService: 1, desired: 1, min: 1, max: 4 } });
  t.match(lines.join('\n'), new RegExp(`2 generators ready \\(run ${RUN}\\): the schedule starts at `));
});

t.test('a generator task\'s command line: --results-s3 and --start-at s3:// through ./loadtest/run.mjs against moto\'s S3', async (t) => {
  const moto = await startMoto(t);
  const s3 = new S3Client(moto.clientConfig());
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET, CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' } }));
  // The launcher's part: the start is already there (a moment ago), so the shard starts at once.
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: `loadgen-results/${RUN}/start-at.json`, Body: JSON.stringify({ at: new Date().toISOString() }) }));
  const { url } = await startServer(t, (_req, res) => json(res, 200, { ok: true }));
  const file = await writeProfile(t, PROFILE);
  const out = await tempDir(t);
  const env = { ...moto.env, PATH: process.env.PATH ?? '' };
  const run = await runCli(
    ['--profile', file, '--target', url, '--shard', '2/2', '--run-id', RUN, '--start-at', `s3://${BUCKET}/loadgen-results/${RUN}/start-at.json`, '--results-s3', `s3://${BUCKET}/loadgen-results/${RUN}/2-of-2/`, '--out', out, '--quiet'],
    env,
  );
  t.equal(run.code, 0, run.stderr + run.stdout);
  const read = async (key: string): Promise<unknown> => JSON.parse(await (await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: `loadgen-results/${RUN}/2-of-2/${key}` }))).Body!.transformToString());
  t.match(await read('status.json'), { state: 'done' });
  t.match(await read('result.json'), { runId: RUN, processes: [{ shard: '2/2' }] });
});
