// The AWS probe: the environment's Auto Scaling groups (one per service, found by their tags)
// for sizes and scaling activities, and CloudWatch for the load balancer's request count and
// p99 latency. Only Describe*/GetMetricData calls: the harness never changes anything in AWS.
import {
  AutoScalingClient,
  DescribeAutoScalingGroupsCommand,
  DescribeScalingActivitiesCommand,
  type AutoScalingGroup,
} from '@aws-sdk/client-auto-scaling';
import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import type { FleetSize, ScalingActivity, ScalingProbe, TargetMetrics } from './probe.js';

export interface AwsProbeOptions {
  region: string;
  environment: string;
  /** tag values and keys the stacks put on every resource */
  project?: string;
  tagKeys?: { project: string; environment: string; service: string };
  /** CloudWatch's LoadBalancer dimension of the ALB (app/<name>/<id>); no metrics without it */
  loadBalancer?: string;
  autoScaling?: AutoScalingClient;
  cloudWatch?: CloudWatchClient;
}

export class AwsProbeError extends Error {}

/** Turns an SDK failure into a sentence that says what to do. */
export function explainAwsError(err: unknown, call: string): AwsProbeError {
  const e = err as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const name = e?.name ?? 'Error';
  if (name === 'CredentialsProviderError' || /Could not load credentials/i.test(e?.message ?? '')) {
    return new AwsProbeError(`${call}: no AWS credentials; set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY`);
  }
  if (/AccessDenied|UnauthorizedOperation|not authorized/i.test(`${name} ${e?.message ?? ''}`)) {
    return new AwsProbeError(`${call}: AWS refused it (${name}); the harness's credentials need autoscaling:Describe* and cloudwatch:GetMetricData`);
  }
  if (/Throttl|Rate exceeded|TooManyRequests/i.test(`${name} ${e?.message ?? ''}`)) {
    return new AwsProbeError(`${call}: throttled by AWS (${name}); the next sample tries again`);
  }
  return new AwsProbeError(`${call}: ${name}: ${e?.message ?? String(err)}`);
}

export class AwsProbe implements ScalingProbe {
  readonly kind = 'aws' as const;
  // ASG sizes change on the scale of minutes; every 10 s keeps well inside the API's limits.
  readonly intervalMs = 10_000;
  private readonly asg: AutoScalingClient;
  private readonly cw: CloudWatchClient;
  private readonly keys: { project: string; environment: string; service: string };
  private groups: Map<string, string> | undefined;

  constructor(private readonly opts: AwsProbeOptions) {
    this.asg = opts.autoScaling ?? new AutoScalingClient({ region: opts.region });
    this.cw = opts.cloudWatch ?? new CloudWatchClient({ region: opts.region });
    this.keys = opts.tagKeys ?? { project: 'Project', environment: 'Environment', service: 'Service' };
  }

  describe(): string {
    return `AWS Auto Scaling groups of ${this.opts.environment} in ${this.opts.region}${this.opts.loadBalancer ? `, ALB ${this.opts.loadBalancer}` : ''}`;
  }

  /** service name → Auto Scaling group name, found once by tags. */
  async discover(): Promise<Map<string, string>> {
    if (this.groups) return this.groups;
    const found = new Map<string, string>();
    let NextToken: string | undefined;
    do {
      let page;
      try {
        page = await this.asg.send(
          new DescribeAutoScalingGroupsCommand({
            Filters: [
              { Name: `tag:${this.keys.project}`, Values: [this.opts.project ?? 'saleday'] },
              { Name: `tag:${this.keys.environment}`, Values: [this.opts.environment] },
            ],
            NextToken,
          }),
        );
      } catch (err) {
        throw explainAwsError(err, 'DescribeAutoScalingGroups');
      }
      for (const g of page.AutoScalingGroups ?? []) {
        const service = g.Tags?.find((t) => t.Key === this.keys.service)?.Value;
        if (service && g.AutoScalingGroupName) found.set(service, g.AutoScalingGroupName);
      }
      NextToken = page.NextToken;
    } while (NextToken);
    if (!found.size) {
      throw new AwsProbeError(
        `no Auto Scaling group tagged ${this.keys.project}=${this.opts.project ?? 'saleday'}, ${this.keys.environment}=${this.opts.environment} (with a ${this.keys.service} tag) in ${this.opts.region}: is the environment deployed?`,
      );
    }
    this.groups = found;
    return found;
  }

  async sample(): Promise<Record<string, FleetSize>> {
    const groups = await this.discover();
    const byName = new Map([...groups].map(([service, name]) => [name, service]));
    const out: Record<string, FleetSize> = {};
    const names = [...groups.values()];
    for (let i = 0; i < names.length; i += 50) {
      let res;
      try {
        res = await this.asg.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: names.slice(i, i + 50) }));
      } catch (err) {
        throw explainAwsError(err, 'DescribeAutoScalingGroups');
      }
      for (const g of res.AutoScalingGroups ?? []) {
        const service = byName.get(g.AutoScalingGroupName ?? '');
        if (service) out[service] = size(g);
      }
    }
    return out;
  }

  async activities(since: Date, until: Date): Promise<ScalingActivity[]> {
    const groups = await this.discover();
    const out: ScalingActivity[] = [];
    for (const [service, name] of groups) {
      let NextToken: string | undefined;
      pages: do {
        let page;
        try {
          page = await this.asg.send(new DescribeScalingActivitiesCommand({ AutoScalingGroupName: name, NextToken, MaxRecords: 100 }));
        } catch (err) {
          throw explainAwsError(err, 'DescribeScalingActivities');
        }
        // Newest first: stop paging once activities are older than the run.
        for (const a of page.Activities ?? []) {
          const time = a.StartTime?.getTime() ?? 0;
          if (time < since.getTime()) break pages;
          if (time > until.getTime()) continue;
          const change = /from (\d+) to (\d+)/.exec(a.Cause ?? '');
          if (!change) continue;
          out.push({ time: new Date(time).toISOString(), service, from: Number(change[1]), to: Number(change[2]), cause: (a.Cause ?? a.Description ?? '').trim() });
        }
        NextToken = page.NextToken;
      } while (NextToken);
    }
    return out.sort((a, b) => a.time.localeCompare(b.time));
  }

  async metrics(since: Date, until: Date): Promise<TargetMetrics | undefined> {
    if (!this.opts.loadBalancer) return undefined;
    const dims = [{ Name: 'LoadBalancer', Value: this.opts.loadBalancer }];
    const periodSeconds = 60;
    let res;
    try {
      res = await this.cw.send(
        new GetMetricDataCommand({
          StartTime: since,
          EndTime: until,
          ScanBy: 'TimestampAscending',
          MetricDataQueries: [
            { Id: 'requests', MetricStat: { Metric: { Namespace: 'AWS/ApplicationELB', MetricName: 'RequestCount', Dimensions: dims }, Period: periodSeconds, Stat: 'Sum' } },
            { Id: 'p99', MetricStat: { Metric: { Namespace: 'AWS/ApplicationELB', MetricName: 'TargetResponseTime', Dimensions: dims }, Period: periodSeconds, Stat: 'p99' } },
          ],
        }),
      );
    } catch (err) {
      throw explainAwsError(err, 'GetMetricData');
    }
    const points = new Map<string, { time: string; requests: number; p99Ms: number | undefined }>();
    const at = (t: Date) => {
      const time = t.toISOString();
      let p = points.get(time);
      if (!p) {
        p = { time, requests: 0, p99Ms: undefined };
        points.set(time, p);
      }
      return p;
    };
    for (const r of res.MetricDataResults ?? []) {
      (r.Timestamps ?? []).forEach((t, i) => {
        const v = r.Values?.[i];
        if (v === undefined) return;
        if (r.Id === 'requests') at(t).requests = v;
        if (r.Id === 'p99') at(t).p99Ms = v * 1000;
      });
    }
    return { periodSeconds, points: [...points.values()].sort((a, b) => a.time.localeCompare(b.time)) };
  }
}

function size(g: AutoScalingGroup): FleetSize {
  return {
    inService: (g.Instances ?? []).filter((i) => i.LifecycleState === 'InService').length,
    desired: g.DesiredCapacity ?? 0,
    min: g.MinSize ?? 0,
    max: g.MaxSize ?? 0,
  };
}
