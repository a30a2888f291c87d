// The narrow part of EC2 the deploy play uses: find an AWS-managed prefix list by name (its id
// differs per region, so templates take it as a parameter).
import { DescribeManagedPrefixListsCommand, type EC2Client } from '@aws-sdk/client-ec2';
import { type CallOptions, type RetryPolicy, withRetry } from './retry.js';

export interface Ec2Api {
  /** The id of the managed prefix list with this name in the region, or undefined when there is none. */
  managedPrefixListId(name: string): Promise<string | undefined>;
}

export class SdkEc2 implements Ec2Api {
  constructor(
    private readonly client: EC2Client,
    private readonly retry: RetryPolicy,
    private readonly opts: Omit<CallOptions, 'idempotent'> = {},
  ) {}

  async managedPrefixListId(name: string): Promise<string | undefined> {
    const out = await withRetry('DescribeManagedPrefixLists', this.retry, { ...this.opts, idempotent: true }, () =>
      this.client.send(new DescribeManagedPrefixListsCommand({ Filters: [{ Name: 'prefix-list-name', Values: [name] }] })),
    );
    return out.PrefixLists?.find((p) => p.PrefixListName === name)?.PrefixListId;
  }
}
