// Fakes of the AWS services the playbooks call, built on aws-sdk-client-mock: each keeps a little
// state (stacks, change sets, objects, secrets) so flows run end to end in-process, and every call
// stays recorded for assertions. Nothing here opens a socket.
import { createHash } from 'node:crypto';
import {
  type Change,
  CloudFormationClient,
  CreateChangeSetCommand,
  DeleteChangeSetCommand,
  DeleteStackCommand,
  DescribeChangeSetCommand,
  DescribeStackDriftDetectionStatusCommand,
  DescribeStackEventsCommand,
  DescribeStackResourceDriftsCommand,
  DescribeStacksCommand,
  DetectStackDriftCommand,
  ExecuteChangeSetCommand,
  GetTemplateCommand,
  ListChangeSetsCommand,
  ListStackResourcesCommand,
  type StackResourceDrift,
} from '@aws-sdk/client-cloudformation';
import {
  CreateBucketCommand, DeleteObjectsCommand, HeadBucketCommand, HeadObjectCommand, ListObjectsV2Command, PutBucketPolicyCommand, PutBucketTaggingCommand, PutObjectCommand, PutPublicAccessBlockCommand, S3Client,
} from '@aws-sdk/client-s3';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import {
  CreateSecretCommand, DeleteSecretCommand, DescribeSecretCommand, GetSecretValueCommand, PutSecretValueCommand, SecretsManagerClient, UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { GetParameterCommand, ParameterNotFound, SSMClient } from '@aws-sdk/client-ssm';
import { CreateInvalidationCommand, CloudFrontClient } from '@aws-sdk/client-cloudfront';
import { DescribeTargetHealthCommand, ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { ACMClient, DescribeCertificateCommand } from '@aws-sdk/client-acm';
import { DescribeAvailabilityZonesCommand, DescribeInstanceTypeOfferingsCommand, DescribeInstanceTypesCommand, DescribeManagedPrefixListsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { IAMClient, SimulatePrincipalPolicyCommand } from '@aws-sdk/client-iam';
import { GetServiceQuotaCommand, ServiceQuotasClient } from '@aws-sdk/client-service-quotas';
import { GetWebACLCommand, WAFV2Client } from '@aws-sdk/client-wafv2';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { DescribeReplicationGroupsCommand, ElastiCacheClient, ModifyReplicationGroupCommand } from '@aws-sdk/client-elasticache';
import { mockClient } from 'aws-sdk-client-mock';
import { parse } from 'yaml';

export const awsError = (name: string, message: string, status = 400): Error =>
  Object.assign(new Error(message), { name, $fault: status >= 500 ? 'server' : 'client', $metadata: { httpStatusCode: status } });

export const throttling = (): Error => awsError('Throttling', 'Rate exceeded');

interface FakeEvent {
  EventId: string;
  StackName: string;
  LogicalResourceId: string;
  ResourceType: string;
  ResourceStatus: string;
  ResourceStatusReason?: string;
  Timestamp: Date;
}

export interface FakeStack {
  name: string;
  id: string;
  status: string;
  statusReason?: string;
  parameters: Record<string, string>;
  outputs: Record<string, string>;
  templateBody: string;
  /** Newest first, like DescribeStackEvents. */
  events: FakeEvent[];
  created: Date;
  updated?: Date;
}

interface FakeChangeSet {
  stackName: string;
  name: string;
  id: string;
  type: 'CREATE' | 'UPDATE';
  status: string;
  statusReason?: string;
  executionStatus: string;
  description?: string;
  changes: Change[];
  parameters: Record<string, string>;
  templateBody: string;
}

export interface ExecutionScript {
  /** Events of a failing operation, oldest first: [logicalId, type, status, reason]. */
  failWith?: Array<[string, string, string, string]>;
}

type Template = { Resources?: Record<string, { Type: string; Properties?: unknown }>; Outputs?: Record<string, unknown> };

const readTemplate = (body: string): Template => parse(body) as Template;

let clock = Date.parse('2024-11-01T10:00:00Z');
const tick = (): Date => new Date((clock += 1000));

/** The changes CloudFormation would compute for a template update (no replacement unless scripted). */
export function computeChanges(before: string | undefined, after: string): Change[] {
  const a = before ? readTemplate(before).Resources ?? {} : {};
  const b = readTemplate(after).Resources ?? {};
  const changes: Change[] = [];
  for (const [id, r] of Object.entries(b)) {
    if (!a[id]) changes.push({ Type: 'Resource', ResourceChange: { Action: 'Add', LogicalResourceId: id, ResourceType: r.Type } });
    else if (JSON.stringify(a[id]) !== JSON.stringify(r)) {
      const props = Object.keys({ ...(a[id].Properties as object), ...(r.Properties as object) }).filter(
        (k) => JSON.stringify((a[id]!.Properties as Record<string, unknown>)?.[k]) !== JSON.stringify((r.Properties as Record<string, unknown>)?.[k]),
      );
      changes.push({
        Type: 'Resource',
        ResourceChange: {
          Action: 'Modify', LogicalResourceId: id, PhysicalResourceId: `${id.toLowerCase()}-1`, ResourceType: r.Type, Replacement: 'False', Scope: ['Properties'],
          Details: props.map((Name) => ({ Target: { Attribute: 'Properties', Name, RequiresRecreation: 'Never' }, Evaluation: 'Static', ChangeSource: 'DirectModification' })),
        },
      });
    }
  }
  for (const [id, r] of Object.entries(a)) {
    if (!b[id]) changes.push({ Type: 'Resource', ResourceChange: { Action: 'Remove', LogicalResourceId: id, ResourceType: r.Type, PhysicalResourceId: `${id.toLowerCase()}-1` } });
  }
  return changes;
}

export class FakeCloudFormation {
  readonly mock = mockClient(CloudFormationClient);
  readonly stacks = new Map<string, FakeStack>();
  readonly changeSets = new Map<string, FakeChangeSet>();
  /** Changes the next change set of a stack holds instead of the computed ones. */
  readonly nextChanges = new Map<string, Change[]>();
  /** How the next execution on a stack goes. */
  readonly nextExecution = new Map<string, ExecutionScript>();
  /** How the next deletion of a stack goes (failWith: it ends DELETE_FAILED with these events). */
  readonly nextDeletion = new Map<string, ExecutionScript>();
  /** Throttle the next N calls of a command. */
  readonly throttle = new Map<string, number>();
  /** Calls a DescribeStacks needs to see before an in-progress operation ends. */
  inProgressPolls = 1;
  private pending = new Map<string, { polls: number; finish: () => void }>();
  drifts = new Map<string, StackResourceDrift[]>();
  /** Reads a TemplateURL (tests wire it to the S3 fake). */
  resolveTemplateUrl: (url: string) => string | undefined = () => undefined;
  /** Output values by output name, instead of "<stack>:<name>". */
  readonly outputValues = new Map<string, string>();
  private seq = 0;

  constructor() {
    const m = this.mock;
    const guard = <I>(cmd: string, fn: (input: I) => unknown) => (input: any) => {
      const left = this.throttle.get(cmd) ?? 0;
      if (left > 0) {
        this.throttle.set(cmd, left - 1);
        throw throttling();
      }
      return fn(input as I);
    };
    m.on(DescribeStacksCommand).callsFake(guard('DescribeStacks', (i: { StackName: string }) => this.describeStacks(i.StackName)));
    m.on(GetTemplateCommand).callsFake(guard('GetTemplate', (i: { StackName: string; ChangeSetName?: string }) => ({
      TemplateBody: i.ChangeSetName ? this.changeSets.get(`${i.StackName}/${i.ChangeSetName}`)?.templateBody : this.find(i.StackName)?.templateBody,
    })));
    m.on(CreateChangeSetCommand).callsFake(guard('CreateChangeSet', (i: never) => this.createChangeSet(i)));
    m.on(DescribeChangeSetCommand).callsFake(guard('DescribeChangeSet', (i: { StackName: string; ChangeSetName: string }) => this.describeChangeSet(i)));
    m.on(ListChangeSetsCommand).callsFake(guard('ListChangeSets', (i: { StackName: string }) => ({
      Summaries: [...this.changeSets.values()].filter((c) => c.stackName === i.StackName).map((c) => ({
        ChangeSetName: c.name, ChangeSetId: c.id, Status: c.status, ExecutionStatus: c.executionStatus, Description: c.description,
      })),
    })));
    m.on(DeleteChangeSetCommand).callsFake(guard('DeleteChangeSet', (i: { StackName: string; ChangeSetName: string }) => {
      const key = `${i.StackName}/${i.ChangeSetName}`;
      if (!this.changeSets.has(key)) throw awsError('ChangeSetNotFoundException', `ChangeSet [${i.ChangeSetName}] does not exist`);
      this.changeSets.delete(key);
      return {};
    }));
    m.on(ExecuteChangeSetCommand).callsFake(guard('ExecuteChangeSet', (i: { StackName: string; ChangeSetName: string }) => this.execute(i)));
    m.on(DeleteStackCommand).callsFake(guard('DeleteStack', (i: { StackName: string }) => this.deleteStack(i.StackName)));
    m.on(ListStackResourcesCommand).callsFake(guard('ListStackResources', (i: { StackName: string }) => {
      const stack = this.find(i.StackName);
      if (!stack) throw awsError('ValidationError', `Stack with id ${i.StackName} does not exist`);
      const resources = stack.templateBody ? readTemplate(stack.templateBody).Resources ?? {} : {};
      return {
        StackResourceSummaries: Object.entries(resources).map(([id, r]) => ({
          LogicalResourceId: id, PhysicalResourceId: `${id.toLowerCase()}-1`, ResourceType: r.Type, ResourceStatus: 'CREATE_COMPLETE', LastUpdatedTimestamp: stack.created,
        })),
      };
    }));
    m.on(DescribeStackEventsCommand).callsFake(guard('DescribeStackEvents', (i: { StackName: string }) => ({ StackEvents: this.find(i.StackName)?.events ?? [] })));
    m.on(DetectStackDriftCommand).callsFake((i: { StackName: string }) => ({ StackDriftDetectionId: `drift-${i.StackName}` }));
    m.on(DescribeStackDriftDetectionStatusCommand).callsFake((i: { StackDriftDetectionId: string }) => {
      const name = i.StackDriftDetectionId.slice('drift-'.length);
      return { StackDriftDetectionId: i.StackDriftDetectionId, DetectionStatus: 'DETECTION_COMPLETE', StackDriftStatus: this.drifts.get(name)?.length ? 'DRIFTED' : 'IN_SYNC' };
    });
    m.on(DescribeStackResourceDriftsCommand).callsFake((i: { StackName: string }) => ({ StackResourceDrifts: this.drifts.get(i.StackName) ?? [] }));
  }

  restore(): void {
    this.mock.restore();
  }

  /** Every call so far as "Command stackName[/changeSet]". */
  calls(): string[] {
    return this.mock.calls().map((c) => {
      const cmd = c.args[0] as { constructor: { name: string }; input: { StackName?: string; ChangeSetName?: string } };
      const name = cmd.constructor.name.replace(/Command$/, '');
      return `${name} ${cmd.input.StackName ?? ''}${cmd.input.ChangeSetName ? `/${cmd.input.ChangeSetName}` : ''}`.trim();
    });
  }

  /** Calls that change something in AWS. */
  mutatingCalls(): string[] {
    return this.calls().filter((c) => /^(Create|Delete|Execute|Update|Continue|Detect)/.test(c));
  }

  /** A stack that exists already. */
  addStack(name: string, s: Partial<FakeStack> & { templateBody: string }): FakeStack {
    const stack: FakeStack = {
      name,
      id: `arn:aws:cloudformation:eu-west-1:123456789012:stack/${name}/${++this.seq}`,
      status: 'CREATE_COMPLETE',
      parameters: {},
      outputs: {},
      events: [],
      created: tick(),
      ...s,
    };
    this.stacks.set(name, stack);
    return stack;
  }

  find(ref: string): FakeStack | undefined {
    return this.stacks.get(ref) ?? [...this.stacks.values()].find((s) => s.id === ref);
  }

  private event(stack: FakeStack, logicalId: string, type: string, status: string, reason?: string): void {
    stack.events.unshift({
      EventId: `e${++this.seq}`, StackName: stack.name, LogicalResourceId: logicalId, ResourceType: type, ResourceStatus: status, Timestamp: tick(),
      ...(reason ? { ResourceStatusReason: reason } : {}),
    });
  }

  private describeStacks(ref: string): unknown {
    const stack = this.find(ref);
    if (!stack || (stack.status === 'DELETE_COMPLETE' && ref === stack.name)) throw awsError('ValidationError', `Stack with id ${ref} does not exist`);
    const p = this.pending.get(stack.name);
    if (p && --p.polls < 0) {
      this.pending.delete(stack.name);
      p.finish();
    }
    return {
      Stacks: [{
        StackName: stack.name, StackId: stack.id, StackStatus: stack.status, StackStatusReason: stack.statusReason,
        CreationTime: stack.created, LastUpdatedTime: stack.updated,
        Parameters: Object.entries(stack.parameters).map(([ParameterKey, ParameterValue]) => ({ ParameterKey, ParameterValue })),
        Outputs: Object.entries(stack.outputs).map(([OutputKey, OutputValue]) => ({ OutputKey, OutputValue })),
      }],
    };
  }

  private createChangeSet(i: {
    StackName: string; ChangeSetName: string; ChangeSetType: 'CREATE' | 'UPDATE'; TemplateBody?: string; TemplateURL?: string;
    Parameters?: Array<{ ParameterKey: string; ParameterValue: string }>; Description?: string;
  }): unknown {
    let stack = this.stacks.get(i.StackName);
    if (i.ChangeSetType === 'CREATE') {
      if (stack && stack.status !== 'REVIEW_IN_PROGRESS') throw awsError('AlreadyExistsException', `Stack [${i.StackName}] already exists`);
      stack ??= this.addStack(i.StackName, { status: 'REVIEW_IN_PROGRESS', templateBody: '' });
    } else if (!stack) throw awsError('ValidationError', `Stack [${i.StackName}] does not exist`);
    const key = `${i.StackName}/${i.ChangeSetName}`;
    if (this.changeSets.has(key)) throw awsError('AlreadyExistsException', `ChangeSet ${i.ChangeSetName} already exists`);
    const body = i.TemplateBody ?? (i.TemplateURL ? this.resolveTemplateUrl(i.TemplateURL) : undefined) ?? '';
    if (!body) throw awsError('ValidationError', 'Template format error: empty template');
    const parameters = Object.fromEntries((i.Parameters ?? []).map((p) => [p.ParameterKey, p.ParameterValue]));
    const scripted = this.nextChanges.get(i.StackName);
    this.nextChanges.delete(i.StackName);
    const sameInputs = i.ChangeSetType === 'UPDATE' && stack.templateBody === body && JSON.stringify(stack.parameters) === JSON.stringify(parameters);
    const changes = scripted ?? (sameInputs ? [] : computeChanges(i.ChangeSetType === 'UPDATE' ? stack.templateBody : undefined, body));
    const none = changes.length === 0;
    const cs: FakeChangeSet = {
      stackName: i.StackName, name: i.ChangeSetName, id: `arn:aws:cloudformation:eu-west-1:123456789012:changeSet/${i.ChangeSetName}/${++this.seq}`,
      type: i.ChangeSetType,
      status: none ? 'FAILED' : 'CREATE_COMPLETE',
      ...(none ? { statusReason: "The submitted information didn't contain changes. Submit different information to create a change set." } : {}),
      executionStatus: none ? 'UNAVAILABLE' : 'AVAILABLE',
      ...(i.Description ? { description: i.Description } : {}),
      changes, parameters, templateBody: body,
    };
    this.changeSets.set(key, cs);
    return { Id: cs.id, StackId: stack.id };
  }

  private describeChangeSet(i: { StackName: string; ChangeSetName: string }): unknown {
    const cs = this.changeSets.get(`${i.StackName}/${i.ChangeSetName}`);
    if (!cs) throw awsError('ChangeSetNotFoundException', `ChangeSet [${i.ChangeSetName}] does not exist`);
    return {
      ChangeSetName: cs.name, ChangeSetId: cs.id, StackName: cs.stackName, Status: cs.status, StatusReason: cs.statusReason,
      ExecutionStatus: cs.executionStatus, Description: cs.description, Changes: cs.changes,
      Parameters: Object.entries(cs.parameters).map(([ParameterKey, ParameterValue]) => ({ ParameterKey, ParameterValue })),
    };
  }

  private execute(i: { StackName: string; ChangeSetName: string }): unknown {
    const key = `${i.StackName}/${i.ChangeSetName}`;
    const cs = this.changeSets.get(key);
    const stack = this.stacks.get(i.StackName);
    if (!cs || !stack) throw awsError('ChangeSetNotFoundException', `ChangeSet [${i.ChangeSetName}] does not exist`);
    if (cs.executionStatus !== 'AVAILABLE') throw awsError('InvalidChangeSetStatusException', `ChangeSet is in ${cs.executionStatus} state`);
    // Executing a change set makes the others of the stack obsolete, as CloudFormation does.
    this.changeSets.delete(key);
    for (const other of this.changeSets.values()) if (other.stackName === i.StackName) other.executionStatus = 'OBSOLETE';
    const op = cs.type;
    const script = this.nextExecution.get(i.StackName) ?? {};
    this.nextExecution.delete(i.StackName);
    stack.status = `${op}_IN_PROGRESS`;
    this.event(stack, stack.name, 'AWS::CloudFormation::Stack', `${op}_IN_PROGRESS`, 'User Initiated');
    this.pending.set(stack.name, {
      polls: this.inProgressPolls,
      finish: () => {
        if (script.failWith) {
          for (const [id, type, status, reason] of script.failWith) this.event(stack, id, type, status, reason);
          stack.status = op === 'CREATE' ? 'ROLLBACK_COMPLETE' : 'UPDATE_ROLLBACK_COMPLETE';
          this.event(stack, stack.name, 'AWS::CloudFormation::Stack', stack.status);
          return;
        }
        for (const c of cs.changes) {
          const rc = c.ResourceChange!;
          this.event(stack, rc.LogicalResourceId!, rc.ResourceType!, `${op === 'CREATE' || rc.Action === 'Add' ? 'CREATE' : rc.Action === 'Remove' ? 'DELETE' : 'UPDATE'}_COMPLETE`);
        }
        stack.templateBody = cs.templateBody;
        stack.parameters = cs.parameters;
        stack.outputs = Object.fromEntries(Object.keys(readTemplate(cs.templateBody).Outputs ?? {}).map((k) => [k, this.outputValues.get(k) ?? `${stack.name}:${k}`]));
        stack.status = `${op}_COMPLETE`;
        if (op === 'UPDATE') stack.updated = tick();
        this.event(stack, stack.name, 'AWS::CloudFormation::Stack', stack.status);
      },
    });
    return {};
  }

  private deleteStack(ref: string): unknown {
    const stack = this.find(ref);
    if (!stack || stack.status === 'DELETE_COMPLETE') return {};
    const name = stack.name;
    const script = this.nextDeletion.get(name) ?? {};
    this.nextDeletion.delete(name);
    stack.status = 'DELETE_IN_PROGRESS';
    this.event(stack, stack.name, 'AWS::CloudFormation::Stack', 'DELETE_IN_PROGRESS', 'User Initiated');
    this.pending.set(name, {
      polls: this.inProgressPolls,
      finish: () => {
        if (script.failWith) {
          for (const [id, type, status, reason] of script.failWith) this.event(stack, id, type, status, reason);
          stack.status = 'DELETE_FAILED';
          this.event(stack, stack.name, 'AWS::CloudFormation::Stack', 'DELETE_FAILED', 'The following resource(s) failed to delete: [' + script.failWith.map((f) => f[0]).join(', ') + ']. ');
          return;
        }
        stack.status = 'DELETE_COMPLETE';
        this.event(stack, stack.name, 'AWS::CloudFormation::Stack', 'DELETE_COMPLETE');
        // A deleted stack answers by id only; a new one of the same name is another stack.
        this.stacks.delete(name);
        this.stacks.set(stack.id, stack);
      },
    });
    return {};
  }
}

const md5 = (b: Buffer): string => createHash('md5').update(b).digest('hex');

export interface FakeObject {
  body: Buffer;
  etag: string;
  contentType?: string | undefined;
  cacheControl?: string | undefined;
  metadata?: Record<string, string> | undefined;
}

export class FakeS3 {
  readonly mock = mockClient(S3Client);
  readonly objects = new Map<string, FakeObject>();
  readonly buckets = new Set<string>();

  constructor() {
    this.mock.on(HeadBucketCommand).callsFake((i: { Bucket: string }) => {
      if (!this.buckets.has(i.Bucket)) throw awsError('NotFound', 'Not Found', 404);
      return {};
    });
    this.mock.on(CreateBucketCommand).callsFake((i: { Bucket: string }) => {
      this.buckets.add(i.Bucket);
      return {};
    });
    for (const cmd of [PutPublicAccessBlockCommand, PutBucketPolicyCommand, PutBucketTaggingCommand]) this.mock.on(cmd as never).resolves({});
    this.mock.on(HeadObjectCommand).callsFake((i: { Bucket: string; Key: string }) => {
      const o = this.objects.get(`${i.Bucket}/${i.Key}`);
      if (!o) throw awsError('NotFound', 'Not Found', 404);
      return { ETag: `"${o.etag}"`, ContentLength: o.body.length, Metadata: o.metadata };
    });
    this.mock.on(PutObjectCommand).callsFake((i: { Bucket: string; Key: string; Body: Buffer; ContentType?: string; CacheControl?: string; Metadata?: Record<string, string> }) => {
      const body = Buffer.from(i.Body);
      this.objects.set(`${i.Bucket}/${i.Key}`, { body, etag: md5(body), contentType: i.ContentType, cacheControl: i.CacheControl, metadata: i.Metadata });
      return { ETag: `"${md5(body)}"` };
    });
    this.mock.on(DeleteObjectsCommand).callsFake((i: { Bucket: string; Delete: { Objects: Array<{ Key: string }> } }) => {
      for (const o of i.Delete.Objects) this.objects.delete(`${i.Bucket}/${o.Key}`);
      return { Deleted: i.Delete.Objects };
    });
    this.mock.on(ListObjectsV2Command).callsFake((i: { Bucket: string; Prefix?: string }) => ({
      Contents: [...this.objects].filter(([k]) => k.startsWith(`${i.Bucket}/${i.Prefix ?? ''}`)).map(([k, o]) => ({ Key: k.slice(i.Bucket.length + 1), ETag: `"${o.etag}"`, Size: o.body.length })),
      IsTruncated: false,
    }));
  }

  puts(): string[] {
    return this.mock.commandCalls(PutObjectCommand).map((c) => `${c.args[0].input.Bucket}/${c.args[0].input.Key}`);
  }

  restore(): void {
    this.mock.restore();
  }
}

export class FakeSts {
  readonly mock = mockClient(STSClient);

  constructor(account = '123456789012') {
    this.mock.on(GetCallerIdentityCommand).resolves({ Account: account, Arn: `arn:aws:iam::${account}:user/tester`, UserId: 'AIDEXAMPLE' });
  }

  restore(): void {
    this.mock.restore();
  }
}

/** Systems Manager's public parameters: the latest AL2023 AMI ids, which a test moves. */
export class FakeSsm {
  readonly mock = mockClient(SSMClient);
  readonly parameters = new Map<string, string>([
    ['/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64', 'ami-0a1b2c3d4e5f60001'],
    ['/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64', 'ami-0a1b2c3d4e5f60002'],
  ]);

  constructor() {
    this.mock.on(GetParameterCommand).callsFake((i: { Name: string }) => {
      const value = this.parameters.get(i.Name);
      if (value === undefined) throw new ParameterNotFound({ message: `${i.Name} not found`, $metadata: {} });
      return { Parameter: { Name: i.Name, Type: 'String', Value: value } };
    });
  }

  restore(): void {
    this.mock.restore();
  }
}

/** A secret version: its id and the staging labels on it (AWSCURRENT, AWSPENDING, AWSPREVIOUS). */
interface FakeSecretVersion {
  id: string;
  value: string;
  stages: string[];
}

export class FakeSecrets {
  readonly mock = mockClient(SecretsManagerClient);
  readonly secrets = new Map<string, { arn: string; value: string; versions: FakeSecretVersion[] }>();

  constructor() {
    const find = (id: string) => this.secrets.get(id) ?? [...this.secrets.values()].find((s) => s.arn === id);
    const label = (versions: FakeSecretVersion[], stage: string, to: string | undefined) => {
      for (const v of versions) v.stages = v.stages.filter((x) => x !== stage);
      if (to) versions.find((v) => v.id === to)?.stages.push(stage);
    };
    this.mock.on(DescribeSecretCommand).callsFake((i: { SecretId: string }) => {
      const s = find(i.SecretId);
      if (!s) throw awsError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
      return { ARN: s.arn, Name: i.SecretId, VersionIdsToStages: Object.fromEntries(s.versions.filter((v) => v.stages.length).map((v) => [v.id, [...v.stages]])) };
    });
    this.mock.on(CreateSecretCommand).callsFake((i: { Name: string; SecretString: string; ClientRequestToken?: string }) => {
      if (this.secrets.has(i.Name)) throw awsError('ResourceExistsException', 'exists');
      const arn = `arn:aws:secretsmanager:eu-west-1:123456789012:secret:${i.Name}-AbCdEf`;
      this.secrets.set(i.Name, { arn, value: i.SecretString, versions: [{ id: i.ClientRequestToken ?? `v-${i.Name}-1`, value: i.SecretString, stages: ['AWSCURRENT'] }] });
      return { ARN: arn, Name: i.Name };
    });
    this.mock.on(PutSecretValueCommand).callsFake((i: { SecretId: string; SecretString: string; ClientRequestToken?: string; VersionStages?: string[] }) => {
      const s = find(i.SecretId);
      if (!s) throw awsError('ResourceNotFoundException', 'not found');
      const id = i.ClientRequestToken ?? `v-${s.versions.length + 1}`;
      s.versions.push({ id, value: i.SecretString, stages: [] });
      const stages = i.VersionStages ?? ['AWSCURRENT'];
      if (stages.includes('AWSCURRENT')) {
        label(s.versions, 'AWSPREVIOUS', s.versions.find((v) => v.stages.includes('AWSCURRENT'))?.id);
        s.value = i.SecretString;
      }
      for (const stage of stages) label(s.versions, stage, id);
      return { ARN: s.arn, VersionId: id };
    });
    this.mock.on(UpdateSecretVersionStageCommand).callsFake((i: { SecretId: string; VersionStage: string; MoveToVersionId?: string; RemoveFromVersionId?: string }) => {
      const s = find(i.SecretId);
      if (!s) throw awsError('ResourceNotFoundException', 'not found');
      const holder = s.versions.find((v) => v.stages.includes(i.VersionStage));
      if (holder && i.MoveToVersionId && holder.id !== i.RemoveFromVersionId) throw awsError('InvalidParameterException', `${i.VersionStage} is on ${holder.id}, not ${i.RemoveFromVersionId}`);
      if (i.VersionStage === 'AWSCURRENT' && i.MoveToVersionId) {
        label(s.versions, 'AWSPREVIOUS', holder?.id);
        s.value = s.versions.find((v) => v.id === i.MoveToVersionId)!.value;
      }
      label(s.versions, i.VersionStage, i.MoveToVersionId);
      return { ARN: s.arn };
    });
    this.mock.on(DeleteSecretCommand).callsFake((i: { SecretId: string }) => {
      const s = find(i.SecretId);
      if (!s) throw awsError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
      for (const [name, v] of this.secrets) if (v === s) this.secrets.delete(name);
      return { ARN: s.arn };
    });
    this.mock.on(GetSecretValueCommand).callsFake((i: { SecretId: string }) => {
      const s = find(i.SecretId);
      if (!s) throw awsError('ResourceNotFoundException', 'not found');
      return { ARN: s.arn, SecretString: s.value };
    });
  }

  /** The version ids holding a label. */
  stage(name: string, stage: string): string | undefined {
    return this.secrets.get(name)?.versions.find((v) => v.stages.includes(stage))?.id;
  }

  restore(): void {
    this.mock.restore();
  }
}

export class FakeEc2 {
  readonly mock = mockClient(EC2Client);

  constructor(prefixLists: Record<string, string> = { 'com.amazonaws.global.cloudfront.origin-facing': 'pl-4fa04526' }) {
    this.mock.on(DescribeManagedPrefixListsCommand).callsFake((i: { Filters?: Array<{ Name: string; Values: string[] }> }) => {
      const names = i.Filters?.find((f) => f.Name === 'prefix-list-name')?.Values ?? Object.keys(prefixLists);
      return { PrefixLists: names.filter((n) => prefixLists[n]).map((n) => ({ PrefixListName: n, PrefixListId: prefixLists[n], OwnerId: 'AWS' })) };
    });
  }

  restore(): void {
    this.mock.restore();
  }
}

export class FakeCloudFront {
  readonly mock = mockClient(CloudFrontClient);
  readonly invalidations: Array<{ distribution: string; paths: string[] }> = [];

  constructor() {
    this.mock.on(CreateInvalidationCommand).callsFake((i: { DistributionId: string; InvalidationBatch: { Paths: { Items: string[] } } }) => {
      this.invalidations.push({ distribution: i.DistributionId, paths: i.InvalidationBatch.Paths.Items });
      return { Invalidation: { Id: `I${this.invalidations.length}`, Status: 'InProgress' } };
    });
  }

  restore(): void {
    this.mock.restore();
  }
}

export class FakeElbv2 {
  readonly mock = mockClient(ElasticLoadBalancingV2Client);
  /** Target states per target group ARN, consumed one per call (the last one repeats). */
  readonly health = new Map<string, string[][]>();

  constructor() {
    this.mock.on(DescribeTargetHealthCommand).callsFake((i: { TargetGroupArn: string }) => {
      const seq = this.health.get(i.TargetGroupArn) ?? [['healthy']];
      const states = seq.length > 1 ? seq.shift()! : seq[0]!;
      return {
        TargetHealthDescriptions: states.map((State, n) => ({ Target: { Id: `i-${n}`, Port: 3000 }, TargetHealth: { State, ...(State === 'healthy' ? {} : { Reason: 'Target.FailedHealthChecks', Description: 'Health checks failed' }) } })),
      };
    });
  }

  restore(): void {
    this.mock.restore();
  }
}

/**
 * The read-only services only the preflight calls (EC2, Service Quotas, IAM, ACM, WAF), answering
 * like a healthy account: every type offered in three zones, quotas far above the need, every
 * action allowed, certificates ISSUED for what they are asked about. Tests plant problems on `mock`s.
 */
export class FakePreflight {
  readonly quotas = mockClient(ServiceQuotasClient);
  readonly iam = mockClient(IAMClient);
  readonly acm = mockClient(ACMClient);
  readonly waf = mockClient(WAFV2Client);
  /** Quota values by code (the rest: 10 000). */
  readonly quota = new Map<string, number>();

  /** `ec2`: the EC2 mock another fake already holds (EC2 can be mocked once), else its own. */
  constructor(readonly ec2 = mockClient(EC2Client), private readonly ownsEc2 = true) {
    this.ec2.on(DescribeAvailabilityZonesCommand).resolves({ AvailabilityZones: ['eu-west-1a', 'eu-west-1b', 'eu-west-1c'].map((ZoneName) => ({ ZoneName })) });
    this.ec2.on(DescribeInstanceTypeOfferingsCommand).callsFake((i: { Filters: Array<{ Name: string; Values: string[] }> }) => ({
      InstanceTypeOfferings: (i.Filters.find((f) => f.Name === 'instance-type')?.Values ?? []).map((InstanceType) => ({ InstanceType })),
    }));
    this.ec2.on(DescribeInstanceTypesCommand).callsFake((i: { InstanceTypes: string[] }) => ({
      InstanceTypes: i.InstanceTypes.map((t) => ({ InstanceType: t, VCpuInfo: { DefaultVCpus: /\.(micro|small|medium|large)$/.test(t) ? 2 : 4 } })),
    }));
    this.quotas.on(GetServiceQuotaCommand).callsFake((i: { QuotaCode: string }) => ({ Quota: { QuotaCode: i.QuotaCode, Value: this.quota.get(i.QuotaCode) ?? 10_000 } }));
    this.iam.on(SimulatePrincipalPolicyCommand).callsFake((i: { ActionNames: string[] }) => ({
      EvaluationResults: i.ActionNames.map((EvalActionName) => ({ EvalActionName, EvalDecision: 'allowed' })),
      IsTruncated: false,
    }));
    this.acm.on(DescribeCertificateCommand).callsFake((i: { CertificateArn: string }) => ({
      Certificate: { CertificateArn: i.CertificateArn, Status: 'ISSUED', DomainName: 'shop.example.com', SubjectAlternativeNames: ['shop.example.com', '*.shop.example.com'] },
    }));
    this.waf.on(GetWebACLCommand).resolves({ WebACL: { Name: 'acl', Id: 'id', ARN: 'arn', DefaultAction: { Allow: {} }, VisibilityConfig: { SampledRequestsEnabled: false, CloudWatchMetricsEnabled: false, MetricName: 'm' } } });
  }

  restore(): void {
    for (const m of [...(this.ownsEc2 ? [this.ec2] : []), this.quotas, this.iam, this.acm, this.waf]) m.restore();
  }
}

/** The bootstrap function's answers: a report saying every service is up to date unless a test scripts another. */
export class FakeLambda {
  readonly mock = mockClient(LambdaClient);
  /** Answers in order (the last one repeats): a payload, optionally with FunctionError. */
  readonly answers: Array<{ payload: unknown; functionError?: string }> = [];
  /** The payloads the function was invoked with. */
  readonly invocations: Array<{ functionName: string; payload: unknown }> = [];

  constructor(services: readonly string[] = ['users', 'catalog', 'inventory', 'orders']) {
    this.mock.on(InvokeCommand).callsFake((i: { FunctionName: string; Payload?: Uint8Array }) => {
      const payload: unknown = JSON.parse(Buffer.from(i.Payload ?? new Uint8Array()).toString('utf8') || 'null');
      this.invocations.push({ functionName: i.FunctionName, payload });
      const check = (payload as { check?: boolean } | null)?.check === true;
      const answer = (this.answers.length > 1 ? this.answers.shift() : this.answers[0]) ?? { payload: { check, services: services.map((service) => ({ service, status: 'ok', did: [] })) } };
      return { StatusCode: 200, ...(answer.functionError ? { FunctionError: answer.functionError } : {}), Payload: Buffer.from(JSON.stringify(answer.payload)) };
    });
  }

  restore(): void {
    this.mock.restore();
  }
}

/**
 * ElastiCache replication groups as far as AUTH tokens go: ROTATE adds a token beside the newest
 * one in use (two at most), SET keeps only the new one; a modification leaves the group
 * 'modifying' for `modifyingDescribes` describes. A group exists once seeded with its first token.
 */
export class FakeElastiCache {
  readonly mock = mockClient(ElastiCacheClient);
  readonly groups = new Map<string, { status: string; tokens: string[]; describesLeft: number }>();
  /** Every modification, "<STRATEGY> <group>", in order. */
  readonly modifications: string[] = [];
  modifyingDescribes = 2;
  /** Called with each modification before it applies (tests record order or throw a fault). */
  onModify: ((groupId: string, strategy: string) => void) | undefined;

  constructor() {
    this.mock.on(DescribeReplicationGroupsCommand).callsFake((i: { ReplicationGroupId?: string }) => {
      const g = this.groups.get(i.ReplicationGroupId ?? '');
      if (!g) throw awsError('ReplicationGroupNotFoundFault', `ReplicationGroup ${i.ReplicationGroupId} not found.`);
      if (g.status === 'modifying' && g.describesLeft-- <= 0) g.status = 'available';
      return { ReplicationGroups: [{ ReplicationGroupId: i.ReplicationGroupId, Status: g.status }] };
    });
    this.mock.on(ModifyReplicationGroupCommand).callsFake((i: { ReplicationGroupId: string; AuthToken?: string; AuthTokenUpdateStrategy?: string; ApplyImmediately?: boolean }) => {
      const g = this.groups.get(i.ReplicationGroupId);
      if (!g) throw awsError('ReplicationGroupNotFoundFault', `ReplicationGroup ${i.ReplicationGroupId} not found.`);
      if (g.status !== 'available') throw awsError('InvalidReplicationGroupStateFault', `Replication group ${i.ReplicationGroupId} is not in available state.`);
      const strategy = i.AuthTokenUpdateStrategy ?? 'ROTATE';
      this.onModify?.(i.ReplicationGroupId, strategy);
      this.modifications.push(`${strategy}${i.ApplyImmediately ? '' : ' (maintenance window)'} ${i.ReplicationGroupId}`);
      g.tokens = strategy === 'SET' ? [i.AuthToken!] : [g.tokens[g.tokens.length - 1]!, i.AuthToken!];
      g.status = 'modifying';
      g.describesLeft = this.modifyingDescribes;
      return { ReplicationGroup: { ReplicationGroupId: i.ReplicationGroupId, Status: 'modifying' } };
    });
  }

  seed(groupId: string, token: string): void {
    this.groups.set(groupId, { status: 'available', tokens: [token], describesLeft: 0 });
  }

  accepts(groupId: string, token: string): boolean {
    return this.groups.get(groupId)?.tokens.includes(token) ?? false;
  }

  restore(): void {
    this.mock.restore();
  }
}
