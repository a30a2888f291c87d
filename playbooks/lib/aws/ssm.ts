// The narrow part of Systems Manager the deploy uses: reading a public parameter (the latest
// Amazon Linux 2023 AMI id of an architecture).
import { GetParameterCommand, ParameterNotFound, type SSMClient } from '@aws-sdk/client-ssm';
import { type CallOptions, type RetryPolicy, withRetry } from './retry.js';

export interface SsmApi {
  /** A parameter's value, or undefined when there is no such parameter. */
  parameter(name: string): Promise<string | undefined>;
}

export class SdkSsm implements SsmApi {
  constructor(
    private readonly client: SSMClient,
    private readonly retry: RetryPolicy,
    private readonly opts: Omit<CallOptions, 'idempotent'> = {},
  ) {}

  async parameter(name: string): Promise<string | undefined> {
    try {
      const out = await withRetry('GetParameter', this.retry, { ...this.opts, idempotent: true }, () => this.client.send(new GetParameterCommand({ Name: name })));
      return out.Parameter?.Value;
    } catch (err) {
      if (err instanceof ParameterNotFound) return undefined;
      throw err;
    }
  }
}
