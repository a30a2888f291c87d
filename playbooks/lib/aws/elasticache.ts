// The narrow part of ElastiCache the deploy uses: a replication group's status, and changing its
// AUTH token with an update strategy (ROTATE: the new token accepted beside the one in use; SET:
// the new token only). CloudFormation sets the token only when it creates the group; rotations go
// through here (playbooks/lib/modules/cache-token-rotation.ts).
import { DescribeReplicationGroupsCommand, type ElastiCacheClient, ModifyReplicationGroupCommand } from '@aws-sdk/client-elasticache';
import { type CallOptions, type RetryPolicy, withRetry } from './retry.js';

export type AuthTokenStrategy = 'ROTATE' | 'SET';

export interface ElastiCacheApi {
  /** The group's status ('available', 'modifying', …), undefined when there is no such group. */
  groupStatus(groupId: string): Promise<string | undefined>;
  /** Changes the group's AUTH token, applied at once. */
  modifyAuthToken(groupId: string, token: string, strategy: AuthTokenStrategy): Promise<void>;
}

export class SdkElastiCache implements ElastiCacheApi {
  constructor(
    private readonly client: ElastiCacheClient,
    private readonly retry: RetryPolicy,
    private readonly opts: Omit<CallOptions, 'idempotent'> = {},
  ) {}

  async groupStatus(groupId: string): Promise<string | undefined> {
    try {
      const out = await withRetry('DescribeReplicationGroups', this.retry, { ...this.opts, idempotent: true }, () =>
        this.client.send(new DescribeReplicationGroupsCommand({ ReplicationGroupId: groupId })),
      );
      return out.ReplicationGroups?.[0]?.Status;
    } catch (err) {
      if ((err as { name?: string }).name === 'ReplicationGroupNotFoundFault') return undefined;
      throw err;
    }
  }

  async modifyAuthToken(groupId: string, token: string, strategy: AuthTokenStrategy): Promise<void> {
    // Not repeated after a transient failure: a ROTATE that took effect and ran again would drop
    // the token in use.
    await withRetry('ModifyReplicationGroup', this.retry, { ...this.opts, idempotent: false }, () =>
      this.client.send(new ModifyReplicationGroupCommand({ ReplicationGroupId: groupId, AuthToken: token, AuthTokenUpdateStrategy: strategy, ApplyImmediately: true })),
    );
  }
}
