// The few AWS calls an AWS run makes, behind narrow interfaces (ECS: run, describe, stop a task;
// S3: get and put one object), with their SDK v3 implementations. Throttling is retried with
// backoff here, once for every call; other errors go to the caller.
import { DescribeTasksCommand, RunTaskCommand, StopTaskCommand, type ECSClient, type Task } from '@aws-sdk/client-ecs';
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { S3Location } from './aws-layout.js';
import { systemClock, type Clock } from './clock.js';

export interface TaskLaunch {
  cluster: string;
  taskDefinition: string;
  /** Fargate Spot (may be interrupted, costs less) instead of Fargate */
  spot: boolean;
  subnets: string[];
  securityGroups: string[];
  container: string;
  environment: Record<string, string>;
  /** ECS's startedBy (at most 36 characters): the run id */
  startedBy: string;
}

export interface TaskState {
  arn: string;
  /** PROVISIONING, PENDING, ACTIVATING, RUNNING, DEACTIVATING, STOPPING, DEPROVISIONING, STOPPED (or MISSING: ECS no longer knows it) */
  lastStatus: string;
  stoppedReason?: string | undefined;
  stopCode?: string | undefined;
  /** the harness container's exit code, once it exited */
  exitCode?: number | undefined;
  /** why the container stopped, when ECS says (e.g. an image pull error) */
  containerReason?: string | undefined;
  availabilityZone?: string | undefined;
  capacityProvider?: string | undefined;
}

export interface LoadgenEcs {
  /** starts one task; a refusal (ECS's `failures`) comes back as `failure`, not thrown */
  runTask(launch: TaskLaunch): Promise<{ arn: string } | { failure: string }>;
  describeTasks(cluster: string, arns: string[], container: string): Promise<TaskState[]>;
  stopTask(cluster: string, arn: string, reason: string): Promise<void>;
}

export interface ObjectStore {
  /** the object's text, or undefined when there is none */
  get(loc: S3Location): Promise<string | undefined>;
  put(loc: S3Location, body: string): Promise<void>;
}

const THROTTLED = /Throttl|TooManyRequests|RequestLimitExceeded|SlowDown|Rate exceeded/i;

export function isThrottling(err: unknown): boolean {
  const e = err as { name?: string; message?: string; $retryable?: { throttling?: boolean } } | undefined;
  return !!e && (e.$retryable?.throttling === true || THROTTLED.test(`${e.name ?? ''} ${e.message ?? ''}`));
}

/** Calls fn again while AWS throttles it: 1 s, 2 s, 4 s … up to 30 s apart, at most `attempts` times. */
export async function retryThrottled<T>(fn: () => Promise<T>, clock: Clock = systemClock, attempts = 8): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (!isThrottling(err) || attempt >= attempts) throw err;
      await clock.sleep(Math.min(30_000, 1000 * 2 ** (attempt - 1)));
    }
  }
}

export function ecsApi(client: ECSClient, clock: Clock = systemClock): LoadgenEcs {
  return {
    async runTask(l) {
      const out = await retryThrottled(
        () =>
          client.send(
            new RunTaskCommand({
              cluster: l.cluster,
              taskDefinition: l.taskDefinition,
              count: 1,
              // On-demand is the launch type; Spot is only a capacity provider (the cluster has both).
              ...(l.spot ? { capacityProviderStrategy: [{ capacityProvider: 'FARGATE_SPOT', weight: 1 }] } : { launchType: 'FARGATE' }),
              networkConfiguration: { awsvpcConfiguration: { subnets: l.subnets, securityGroups: l.securityGroups, assignPublicIp: 'DISABLED' } },
              overrides: { containerOverrides: [{ name: l.container, environment: Object.entries(l.environment).map(([name, value]) => ({ name, value })) }] },
              startedBy: l.startedBy.slice(0, 36),
              propagateTags: 'TASK_DEFINITION',
            }),
          ),
        clock,
      );
      const arn = out.tasks?.[0]?.taskArn;
      if (arn) return { arn };
      const f = out.failures?.[0];
      return { failure: f ? `${f.reason ?? 'refused'}${f.detail ? `: ${f.detail}` : ''}` : 'RunTask started no task' };
    },
    async describeTasks(cluster, arns, container) {
      const states: TaskState[] = [];
      // DescribeTasks takes at most 100 tasks a call.
      for (let i = 0; i < arns.length; i += 100) {
        const batch = arns.slice(i, i + 100);
        const out = await retryThrottled(() => client.send(new DescribeTasksCommand({ cluster, tasks: batch })), clock);
        for (const t of out.tasks ?? []) states.push(taskState(t, container));
        for (const f of out.failures ?? []) if (f.arn) states.push({ arn: f.arn, lastStatus: 'MISSING', stoppedReason: f.reason ?? 'ECS no longer knows the task' });
      }
      return states;
    },
    async stopTask(cluster, arn, reason) {
      await retryThrottled(() => client.send(new StopTaskCommand({ cluster, task: arn, reason: reason.slice(0, 255) })), clock);
    },
  };
}

function taskState(t: Task, container: string): TaskState {
  const c = t.containers?.find((x) => x.name === container) ?? t.containers?.[0];
  return {
    arn: t.taskArn ?? '',
    lastStatus: t.lastStatus ?? 'PROVISIONING',
    stoppedReason: t.stoppedReason,
    stopCode: t.stopCode,
    exitCode: t.lastStatus === 'STOPPED' ? c?.exitCode : undefined,
    containerReason: c?.reason,
    availabilityZone: t.availabilityZone,
    capacityProvider: t.capacityProviderName,
  };
}

export function objectStore(client: S3Client, clock: Clock = systemClock): ObjectStore {
  return {
    async get(loc) {
      try {
        const out = await retryThrottled(() => client.send(new GetObjectCommand({ Bucket: loc.bucket, Key: loc.key })), clock);
        return await out.Body?.transformToString('utf8');
      } catch (err) {
        const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
        if (e.name === 'NoSuchKey' || e.name === 'NotFound' || e.$metadata?.httpStatusCode === 404) return undefined;
        throw err;
      }
    },
    async put(loc, body) {
      await retryThrottled(() => client.send(new PutObjectCommand({ Bucket: loc.bucket, Key: loc.key, Body: body, ContentType: 'application/json' })), clock);
    },
  };
}
