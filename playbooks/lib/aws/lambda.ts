// The narrow part of Lambda the deploy play uses: invoke a function and wait for its answer
// (RequestResponse). An invocation is not idempotent, so only throttling is retried.
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { type CallOptions, type RetryPolicy, withRetry } from './retry.js';

export interface InvokeResult {
  /** Set when the function threw ("Unhandled") or Lambda stopped it (timeout, out of memory). */
  functionError?: string | undefined;
  /** The function's answer (or, with functionError, `{errorType, errorMessage}`), parsed from JSON when it is JSON. */
  payload: unknown;
}

export interface LambdaApi {
  invoke(functionName: string, payload: unknown): Promise<InvokeResult>;
}

export class SdkLambda implements LambdaApi {
  constructor(
    private readonly client: LambdaClient,
    private readonly retry: RetryPolicy,
    private readonly opts: Omit<CallOptions, 'idempotent'> = {},
  ) {}

  async invoke(functionName: string, payload: unknown): Promise<InvokeResult> {
    const out = await withRetry('Invoke', this.retry, { ...this.opts, idempotent: false }, () =>
      this.client.send(new InvokeCommand({ FunctionName: functionName, InvocationType: 'RequestResponse', Payload: Buffer.from(JSON.stringify(payload)) })),
    );
    const text = out.Payload ? Buffer.from(out.Payload).toString('utf8') : '';
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // not JSON: kept as text
    }
    return { functionError: out.FunctionError, payload: parsed };
  }
}
