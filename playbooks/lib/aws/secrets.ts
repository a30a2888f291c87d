// The narrow part of Secrets Manager the secret module uses. Values pass through, never logged;
// errors are rethrown with the secret's name only.
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  type SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { type CallOptions, type RetryPolicy, withRetry } from './retry.js';

export interface SecretsApi {
  /** The secret's ARN, or undefined when there is no such secret. */
  describe(name: string): Promise<string | undefined>;
  create(name: string, value: string, opts: { description: string; tags: Record<string, string>; token: string }): Promise<string>;
  /** A new version; with `pending`, labelled AWSPENDING and the current one left current. */
  putValue(name: string, value: string, token: string, opts?: { pending?: boolean }): Promise<void>;
  getValue(name: string): Promise<string>;
  /** Deletes the secret at once (no recovery window), so a new deploy can create it again by name. */
  deleteNow(name: string): Promise<void>;
  /** The version ids labelled AWSCURRENT and AWSPENDING (undefined when no version has the label). */
  versions(name: string): Promise<SecretVersions>;
  /** Makes the AWSPENDING version current (the current one becomes AWSPREVIOUS) and drops the AWSPENDING label. */
  promotePending(name: string, versions: Required<SecretVersions>): Promise<void>;
}

export interface SecretVersions {
  current?: string | undefined;
  pending?: string | undefined;
}

export class SdkSecrets implements SecretsApi {
  constructor(
    private readonly client: SecretsManagerClient,
    private readonly retry: RetryPolicy,
    private readonly opts: Omit<CallOptions, 'idempotent'> = {},
  ) {}

  async describe(name: string): Promise<string | undefined> {
    try {
      const out = await withRetry('DescribeSecret', this.retry, { ...this.opts, idempotent: true }, () => this.client.send(new DescribeSecretCommand({ SecretId: name })));
      return out.DeletedDate ? undefined : out.ARN;
    } catch (err) {
      if (err instanceof Error && err.name === 'ResourceNotFoundException') return undefined;
      throw err;
    }
  }

  async create(name: string, value: string, o: { description: string; tags: Record<string, string>; token: string }): Promise<string> {
    // ClientRequestToken makes a repeated CreateSecret the same request, so retrying is safe.
    const out = await withRetry('CreateSecret', this.retry, { ...this.opts, idempotent: true }, () =>
      this.client.send(
        new CreateSecretCommand({
          Name: name,
          SecretString: value,
          Description: o.description,
          ClientRequestToken: o.token,
          Tags: Object.entries(o.tags).map(([Key, Value]) => ({ Key, Value })),
        }),
      ),
    );
    return out.ARN ?? name;
  }

  async putValue(name: string, value: string, token: string, o: { pending?: boolean } = {}): Promise<void> {
    await withRetry('PutSecretValue', this.retry, { ...this.opts, idempotent: true }, () =>
      this.client.send(new PutSecretValueCommand({ SecretId: name, SecretString: value, ClientRequestToken: token, ...(o.pending ? { VersionStages: ['AWSPENDING'] } : {}) })),
    );
  }

  async versions(name: string): Promise<SecretVersions> {
    const out = await withRetry('DescribeSecret', this.retry, { ...this.opts, idempotent: true }, () => this.client.send(new DescribeSecretCommand({ SecretId: name })));
    const at = (stage: string) => Object.entries(out.VersionIdsToStages ?? {}).find(([, stages]) => stages.includes(stage))?.[0];
    return { current: at('AWSCURRENT'), pending: at('AWSPENDING') };
  }

  async promotePending(name: string, v: Required<SecretVersions>): Promise<void> {
    // Not repeated blindly: a second move would name a version that no longer holds the label.
    await withRetry('UpdateSecretVersionStage', this.retry, { ...this.opts, idempotent: false }, () =>
      this.client.send(new UpdateSecretVersionStageCommand({ SecretId: name, VersionStage: 'AWSCURRENT', MoveToVersionId: v.pending, RemoveFromVersionId: v.current })),
    );
    await withRetry('UpdateSecretVersionStage', this.retry, { ...this.opts, idempotent: false }, () =>
      this.client.send(new UpdateSecretVersionStageCommand({ SecretId: name, VersionStage: 'AWSPENDING', RemoveFromVersionId: v.pending })),
    );
  }

  async getValue(name: string): Promise<string> {
    const out = await withRetry('GetSecretValue', this.retry, { ...this.opts, idempotent: true }, () => this.client.send(new GetSecretValueCommand({ SecretId: name })));
    if (typeof out.SecretString !== 'string') throw new Error(`secret ${name} has no string value`);
    return out.SecretString;
  }

  async deleteNow(name: string): Promise<void> {
    try {
      await withRetry('DeleteSecret', this.retry, { ...this.opts, idempotent: true }, () =>
        this.client.send(new DeleteSecretCommand({ SecretId: name, ForceDeleteWithoutRecovery: true })),
      );
    } catch (err) {
      // A retried delete finds the secret gone: that is the outcome we wanted.
      if (err instanceof Error && err.name === 'ResourceNotFoundException') return;
      throw err;
    }
  }
}
