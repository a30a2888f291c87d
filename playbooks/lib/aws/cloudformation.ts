// The narrow part of CloudFormation the playbooks use, over the SDK v3 client. Every call goes
// through withRetry, marked idempotent only when repeating it is safe (reads; writes that carry a
// client token). Stack and change-set shapes are flattened to what the modules need.
import {
  type Change,
  type CloudFormationClient,
  CreateChangeSetCommand,
  DeleteChangeSetCommand,
  DeleteStackCommand,
  DescribeChangeSetCommand,
  type DescribeChangeSetCommandOutput,
  DescribeStackDriftDetectionStatusCommand,
  DescribeStackEventsCommand,
  DescribeStackResourceDriftsCommand,
  DescribeStacksCommand,
  DetectStackDriftCommand,
  ExecuteChangeSetCommand,
  GetTemplateCommand,
  ListChangeSetsCommand,
  ListStackResourcesCommand,
  type Parameter,
  type StackResourceDrift,
} from '@aws-sdk/client-cloudformation';
import { type CallOptions, type RetryPolicy, withRetry } from './retry.js';

export interface StackInfo {
  name: string;
  id: string;
  status: string;
  statusReason?: string | undefined;
  /** LastUpdatedTime, or CreationTime for a stack never updated: "the stack moved" compares this. */
  lastChanged: string;
  parameters: Record<string, string>;
  outputs: Record<string, string>;
}

export interface ChangeSetInfo {
  id: string;
  name: string;
  stackName: string;
  status: string;
  statusReason?: string | undefined;
  executionStatus?: string | undefined;
  description?: string | undefined;
  changes: Change[];
  parameters: Record<string, string>;
}

export interface ChangeSetSummary {
  id: string;
  name: string;
  status: string;
  executionStatus?: string | undefined;
  description?: string | undefined;
}

export interface StackEvent {
  id: string;
  time: Date;
  logicalId: string;
  type: string;
  status: string;
  reason?: string | undefined;
}

export interface StackResource {
  logicalId: string;
  physicalId: string;
  type: string;
  status: string;
}

export interface CreateChangeSetInput {
  stackName: string;
  changeSetName: string;
  type: 'CREATE' | 'UPDATE';
  templateBody?: string | undefined;
  templateUrl?: string | undefined;
  parameters: Record<string, string>;
  tags: Record<string, string>;
  description?: string | undefined;
  /** Same token → CloudFormation treats a repeat as the same request. */
  clientToken: string;
}

export interface CloudFormationApi {
  describeStack(name: string): Promise<StackInfo | undefined>;
  /** The stack's template, or the one a change set holds. */
  getTemplate(name: string, changeSet?: string): Promise<string | undefined>;
  createChangeSet(input: CreateChangeSetInput): Promise<string>;
  describeChangeSet(stackName: string, changeSet: string): Promise<ChangeSetInfo>;
  listChangeSets(stackName: string): Promise<ChangeSetSummary[]>;
  deleteChangeSet(stackName: string, changeSet: string): Promise<void>;
  executeChangeSet(stackName: string, changeSet: string, token: string): Promise<void>;
  deleteStack(stackName: string, token: string): Promise<void>;
  /** The stack's resources as CloudFormation made them (physical ids: bucket names, key ids). */
  stackResources(stackName: string): Promise<StackResource[]>;
  /** Events newest first, stopping at `untilId` (excluded) or after `max`. */
  recentEvents(stackName: string, untilId?: string, max?: number): Promise<StackEvent[]>;
  detectDrift(stackName: string): Promise<string>;
  driftDetectionStatus(detectionId: string): Promise<{ status: string; driftStatus?: string | undefined; reason?: string | undefined }>;
  resourceDrifts(stackName: string): Promise<StackResourceDrift[]>;
}

const toRecord = (params: Parameter[] | undefined): Record<string, string> =>
  Object.fromEntries((params ?? []).map((p) => [p.ParameterKey ?? '', p.ResolvedValue ?? p.ParameterValue ?? '']));

const toParams = (values: Record<string, string>): Parameter[] =>
  Object.entries(values).map(([ParameterKey, ParameterValue]) => ({ ParameterKey, ParameterValue }));

/** DescribeStacks says "does not exist" with a ValidationError rather than a NotFound. */
export const isStackMissing = (err: unknown): boolean =>
  err instanceof Error && err.name === 'ValidationError' && /does not exist/.test(err.message);

export class SdkCloudFormation implements CloudFormationApi {
  constructor(
    private readonly client: CloudFormationClient,
    private readonly retry: RetryPolicy,
    private readonly opts: Omit<CallOptions, 'idempotent'> = {},
  ) {}

  private call<T>(what: string, idempotent: boolean, fn: () => Promise<T>): Promise<T> {
    return withRetry(what, this.retry, { ...this.opts, idempotent }, fn);
  }

  async describeStack(name: string): Promise<StackInfo | undefined> {
    try {
      const out = await this.call('DescribeStacks', true, () => this.client.send(new DescribeStacksCommand({ StackName: name })));
      const s = out.Stacks?.[0];
      if (!s) return undefined;
      return {
        name: s.StackName ?? name,
        id: s.StackId ?? name,
        status: s.StackStatus ?? 'UNKNOWN',
        statusReason: s.StackStatusReason,
        lastChanged: (s.LastUpdatedTime ?? s.CreationTime ?? new Date(0)).toISOString(),
        parameters: toRecord(s.Parameters),
        outputs: Object.fromEntries((s.Outputs ?? []).map((o) => [o.OutputKey ?? '', o.OutputValue ?? ''])),
      };
    } catch (err) {
      if (isStackMissing(err)) return undefined;
      throw err;
    }
  }

  async getTemplate(name: string, changeSet?: string): Promise<string | undefined> {
    const out = await this.call('GetTemplate', true, () =>
      this.client.send(new GetTemplateCommand({ StackName: name, ChangeSetName: changeSet, TemplateStage: 'Original' })),
    );
    return out.TemplateBody;
  }

  async createChangeSet(i: CreateChangeSetInput): Promise<string> {
    const out = await this.call('CreateChangeSet', true, () =>
      this.client.send(
        new CreateChangeSetCommand({
          StackName: i.stackName,
          ChangeSetName: i.changeSetName,
          ChangeSetType: i.type,
          TemplateBody: i.templateBody,
          TemplateURL: i.templateUrl,
          Parameters: toParams(i.parameters),
          Tags: Object.entries(i.tags).map(([Key, Value]) => ({ Key, Value })),
          Capabilities: ['CAPABILITY_IAM', 'CAPABILITY_NAMED_IAM'],
          Description: i.description,
          ClientToken: i.clientToken,
        }),
      ),
    );
    return out.Id ?? i.changeSetName;
  }

  async describeChangeSet(stackName: string, changeSet: string): Promise<ChangeSetInfo> {
    const changes: Change[] = [];
    let token: string | undefined;
    let first: DescribeChangeSetCommandOutput | undefined;
    do {
      const out = await this.call('DescribeChangeSet', true, () =>
        this.client.send(new DescribeChangeSetCommand({ StackName: stackName, ChangeSetName: changeSet, NextToken: token })),
      );
      first ??= out;
      changes.push(...(out.Changes ?? []));
      token = out.NextToken;
    } while (token);
    return {
      id: first?.ChangeSetId ?? changeSet,
      name: first?.ChangeSetName ?? changeSet,
      stackName: first?.StackName ?? stackName,
      status: first?.Status ?? 'UNKNOWN',
      statusReason: first?.StatusReason,
      executionStatus: first?.ExecutionStatus,
      description: first?.Description,
      changes,
      parameters: toRecord(first?.Parameters),
    };
  }

  async listChangeSets(stackName: string): Promise<ChangeSetSummary[]> {
    const all: ChangeSetSummary[] = [];
    let token: string | undefined;
    do {
      const out = await this.call('ListChangeSets', true, () => this.client.send(new ListChangeSetsCommand({ StackName: stackName, NextToken: token })));
      for (const s of out.Summaries ?? []) {
        all.push({ id: s.ChangeSetId ?? '', name: s.ChangeSetName ?? '', status: s.Status ?? 'UNKNOWN', executionStatus: s.ExecutionStatus, description: s.Description });
      }
      token = out.NextToken;
    } while (token);
    return all;
  }

  async deleteChangeSet(stackName: string, changeSet: string): Promise<void> {
    try {
      await this.call('DeleteChangeSet', true, () => this.client.send(new DeleteChangeSetCommand({ StackName: stackName, ChangeSetName: changeSet })));
    } catch (err) {
      // A retried delete may find the change set already gone: that is the outcome we wanted.
      if (err instanceof Error && err.name === 'ChangeSetNotFoundException') return;
      throw err;
    }
  }

  async executeChangeSet(stackName: string, changeSet: string, token: string): Promise<void> {
    await this.call('ExecuteChangeSet', true, () =>
      this.client.send(new ExecuteChangeSetCommand({ StackName: stackName, ChangeSetName: changeSet, ClientRequestToken: token })),
    );
  }

  async deleteStack(stackName: string, token: string): Promise<void> {
    await this.call('DeleteStack', true, () => this.client.send(new DeleteStackCommand({ StackName: stackName, ClientRequestToken: token })));
  }

  async stackResources(stackName: string): Promise<StackResource[]> {
    const all: StackResource[] = [];
    let token: string | undefined;
    do {
      const out = await this.call('ListStackResources', true, () => this.client.send(new ListStackResourcesCommand({ StackName: stackName, NextToken: token })));
      for (const r of out.StackResourceSummaries ?? []) {
        all.push({ logicalId: r.LogicalResourceId ?? '', physicalId: r.PhysicalResourceId ?? '', type: r.ResourceType ?? '', status: r.ResourceStatus ?? '' });
      }
      token = out.NextToken;
    } while (token);
    return all;
  }

  async recentEvents(stackName: string, untilId?: string, max = 500): Promise<StackEvent[]> {
    const events: StackEvent[] = [];
    let token: string | undefined;
    do {
      const out = await this.call('DescribeStackEvents', true, () =>
        this.client.send(new DescribeStackEventsCommand({ StackName: stackName, NextToken: token })),
      );
      for (const e of out.StackEvents ?? []) {
        if (untilId && e.EventId === untilId) return events;
        events.push({
          id: e.EventId ?? '',
          time: e.Timestamp ?? new Date(0),
          logicalId: e.LogicalResourceId ?? '',
          type: e.ResourceType ?? '',
          status: e.ResourceStatus ?? '',
          reason: e.ResourceStatusReason,
        });
        if (events.length >= max) return events;
      }
      token = out.NextToken;
    } while (token);
    return events;
  }

  async detectDrift(stackName: string): Promise<string> {
    // Not idempotent in the strict sense, but a repeated detection only costs a second run.
    const out = await this.call('DetectStackDrift', false, () => this.client.send(new DetectStackDriftCommand({ StackName: stackName })));
    return out.StackDriftDetectionId ?? '';
  }

  async driftDetectionStatus(detectionId: string): Promise<{ status: string; driftStatus?: string | undefined; reason?: string | undefined }> {
    const out = await this.call('DescribeStackDriftDetectionStatus', true, () =>
      this.client.send(new DescribeStackDriftDetectionStatusCommand({ StackDriftDetectionId: detectionId })),
    );
    return { status: out.DetectionStatus ?? 'UNKNOWN', driftStatus: out.StackDriftStatus, reason: out.DetectionStatusReason };
  }

  async resourceDrifts(stackName: string): Promise<StackResourceDrift[]> {
    const all: StackResourceDrift[] = [];
    let token: string | undefined;
    do {
      const out = await this.call('DescribeStackResourceDrifts', true, () =>
        this.client.send(
          new DescribeStackResourceDriftsCommand({ StackName: stackName, NextToken: token, StackResourceDriftStatusFilters: ['MODIFIED', 'DELETED'] }),
        ),
      );
      all.push(...(out.StackResourceDrifts ?? []));
      token = out.NextToken;
    } while (token);
    return all;
  }
}
