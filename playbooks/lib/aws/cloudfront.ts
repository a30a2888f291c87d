// The narrow part of CloudFront the static-assets module uses: invalidate some paths.
import { type CloudFrontClient, CreateInvalidationCommand } from '@aws-sdk/client-cloudfront';
import { type CallOptions, type RetryPolicy, withRetry } from './retry.js';

export interface CloudFrontApi {
  /** CallerReference makes a repeated request the same invalidation, so it is retried safely. */
  invalidate(distributionId: string, paths: string[], callerReference: string): Promise<string>;
}

export class SdkCloudFront implements CloudFrontApi {
  constructor(
    private readonly client: CloudFrontClient,
    private readonly retry: RetryPolicy,
    private readonly opts: Omit<CallOptions, 'idempotent'> = {},
  ) {}

  async invalidate(distributionId: string, paths: string[], callerReference: string): Promise<string> {
    const out = await withRetry('CreateInvalidation', this.retry, { ...this.opts, idempotent: true }, () =>
      this.client.send(
        new CreateInvalidationCommand({
          DistributionId: distributionId,
          InvalidationBatch: { CallerReference: callerReference, Paths: { Quantity: paths.length, Items: paths } },
        }),
      ),
    );
    return out.Invalidation?.Id ?? '';
  }
}
