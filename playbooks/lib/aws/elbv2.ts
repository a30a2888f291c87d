// The narrow part of Elastic Load Balancing v2 the wait-for-healthy module uses.
import { DescribeTargetHealthCommand, type ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { type CallOptions, type RetryPolicy, withRetry } from './retry.js';

export interface TargetState {
  id: string;
  state: string;
  reason?: string | undefined;
}

export interface Elbv2Api {
  targetHealth(targetGroupArn: string): Promise<TargetState[]>;
}

export class SdkElbv2 implements Elbv2Api {
  constructor(
    private readonly client: ElasticLoadBalancingV2Client,
    private readonly retry: RetryPolicy,
    private readonly opts: Omit<CallOptions, 'idempotent'> = {},
  ) {}

  async targetHealth(targetGroupArn: string): Promise<TargetState[]> {
    const out = await withRetry('DescribeTargetHealth', this.retry, { ...this.opts, idempotent: true }, () =>
      this.client.send(new DescribeTargetHealthCommand({ TargetGroupArn: targetGroupArn })),
    );
    return (out.TargetHealthDescriptions ?? []).map((d) => ({
      id: `${d.Target?.Id ?? '?'}:${d.Target?.Port ?? ''}`,
      state: d.TargetHealth?.State ?? 'unknown',
      reason: d.TargetHealth?.Description ?? d.TargetHealth?.Reason,
    }));
  }
}
