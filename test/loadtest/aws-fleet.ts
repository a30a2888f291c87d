// A scripted stand-in for the generator tasks of an AWS run (aws-sdk-client-mock on ECS and S3):
// each task follows a script of states over DescribeTasks calls, and plays the harness's part in
// S3 (status.json ready, then running with a live Status, then result.json) as its state says.
// A virtual clock lets the launcher's polling run without waiting.
import { DescribeTasksCommand, ECSClient, RunTaskCommand, StopTaskCommand } from '@aws-sdk/client-ecs';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { inFolder, RESULT_FILE, shardFolder, STATUS_FILE, type ShardStatus } from '../../loadtest/lib/generators/aws-layout.js';
import type { Clock } from '../../loadtest/lib/generators/clock.js';
import type { LoadgenPlacement } from '../../loadtest/lib/generators/placement.js';
import type { Status } from '../../loadtest/lib/progress.js';
import type { RunResult } from '../../loadtest/lib/result.js';

export const PLACEMENT: LoadgenPlacement = {
  region: 'eu-west-1',
  cluster: 'saleday-staging-loadgen',
  taskDefinitionArn: 'arn:aws:ecs:eu-west-1:123456789012:task-definition/saleday-staging-loadgen:3',
  container: 'generator',
  subnets: ['subnet-a', 'subnet-b'],
  securityGroups: ['sg-loadgen'],
  artifact: { bucket: 'saleday-artifacts', key: 'artifacts/loadgen/abc.tgz', sha256: 'abc' },
  results: { bucket: 'saleday-artifacts', prefix: 'loadgen-results/' },
  logGroup: '/saleday/staging/loadgen',
};

/** One step of a task's life: its ECS state for one DescribeTasks call, and what its harness has written by then. */
export interface Step {
  lastStatus: string;
  /** the harness's state in status.json; 'done' also puts its result.json */
  harness?: 'setup' | 'ready' | 'running' | 'done' | 'failed';
  exitCode?: number;
  stoppedReason?: string;
  error?: string;
}

export function virtualClock(start = Date.parse('2026-12-01T10:00:00Z')): Clock & { slept: number[] } {
  let now = start;
  const slept: number[] = [];
  return {
    slept,
    now: () => now,
    async sleep(ms) {
      slept.push(ms);
      now += ms;
      await new Promise((r) => setImmediate(r));
    },
  };
}

export class ScriptedFleet {
  readonly ecs = mockClient(ECSClient);
  readonly s3 = mockClient(S3Client);
  readonly objects = new Map<string, string>();
  readonly stopped: Array<{ task: string; reason: string }> = [];
  describeCalls = 0;
  /** a hook run on every DescribeTasks call before it answers (e.g. Ctrl-C, throttling) */
  onDescribe: (call: number) => void = () => undefined;
  private launched = 0;
  private readonly arns: string[] = [];

  constructor(
    private readonly scripts: Step[][],
    private readonly results: RunResult[],
    private readonly status: Status,
    private readonly runId: string,
  ) {
    this.ecs.on(RunTaskCommand).callsFake(() => {
      const arn = `arn:aws:ecs:eu-west-1:123456789012:task/${PLACEMENT.cluster}/task${++this.launched}`;
      this.arns.push(arn);
      return { tasks: [{ taskArn: arn, lastStatus: 'PROVISIONING' }], failures: [] };
    });
    this.ecs.on(DescribeTasksCommand).callsFake((input: { tasks: string[] }) => {
      const call = this.describeCalls++;
      this.onDescribe(call);
      return { tasks: input.tasks.map((arn) => this.describe(arn, call)), failures: [] };
    });
    this.ecs.on(StopTaskCommand).callsFake((input: { task: string; reason: string }) => {
      this.stopped.push({ task: input.task, reason: input.reason });
      return { task: { taskArn: input.task, lastStatus: 'STOPPING' } };
    });
    this.s3.on(PutObjectCommand).callsFake((input: { Key: string; Body: string }) => {
      this.objects.set(input.Key, input.Body);
      return {};
    });
    this.s3.on(GetObjectCommand).callsFake((input: { Key: string }) => {
      const text = this.objects.get(input.Key);
      if (text === undefined) throw Object.assign(new Error('The specified key does not exist.'), { name: 'NoSuchKey', $metadata: { httpStatusCode: 404 } });
      return { Body: { transformToString: () => Promise.resolve(text) } };
    });
  }

  /** The task's state at this call: the script's step (its last once it runs out), or STOPPED once stopped. */
  private describe(arn: string, call: number): Record<string, unknown> {
    const index = this.arns.indexOf(arn);
    const script = this.scripts[index]!;
    const wasStopped = this.stopped.some((s) => s.task === arn);
    const step: Step = wasStopped ? { lastStatus: 'STOPPED', exitCode: 143, stoppedReason: this.stopped.find((s) => s.task === arn)!.reason } : script[Math.min(call, script.length - 1)]!;
    const folder = shardFolder(PLACEMENT.results, this.runId, index, this.scripts.length);
    if (step.harness && !wasStopped) {
      const body: ShardStatus = { state: step.harness, at: new Date().toISOString(), status: step.harness === 'running' || step.harness === 'done' ? this.status : undefined, error: step.error ? { message: step.error, usage: false } : undefined };
      this.objects.set(inFolder(folder, STATUS_FILE).key, JSON.stringify(body));
      if (step.harness === 'done') this.objects.set(inFolder(folder, RESULT_FILE).key, JSON.stringify(this.results[index]));
    }
    return {
      taskArn: arn,
      lastStatus: step.lastStatus,
      stoppedReason: step.stoppedReason,
      capacityProviderName: 'FARGATE',
      availabilityZone: `eu-west-1${'abc'[index % 3]}`,
      containers: [{ name: PLACEMENT.container, lastStatus: step.lastStatus, exitCode: step.exitCode }],
    };
  }

  restore(): void {
    this.ecs.restore();
    this.s3.restore();
  }
}

/** A task's usual life: placed, pulled, set up, ready, running, done, stopped with exit 0. */
export function healthyScript(): Step[] {
  return [
    { lastStatus: 'PROVISIONING' },
    { lastStatus: 'PENDING' },
    { lastStatus: 'RUNNING', harness: 'setup' },
    { lastStatus: 'RUNNING', harness: 'ready' },
    { lastStatus: 'RUNNING', harness: 'running' },
    { lastStatus: 'RUNNING', harness: 'done' },
    { lastStatus: 'STOPPED', exitCode: 0, stoppedReason: 'Essential container in task exited' },
  ];
}
