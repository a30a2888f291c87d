// The change-set review: what a person reads before approving. Resource changes and parameter
// changes as tables, and a loud section for what deserves a second look: IAM and security-group
// changes (statement and rule tables from @aws-cdk/cloudformation-diff, which reads raw templates)
// and any replacement or removal of a stateful resource, which is refused unless
// --allow-replace names it. Parameter values of NoEcho or secret-looking parameters are masked.
import type { Change } from '@aws-sdk/client-cloudformation';
import { fullDiff } from '@aws-cdk/cloudformation-diff';
import { edgeBehaviourRows } from '../../cloudformation/index.js';
import type { ChangeSetInfo } from './aws/cloudformation.js';

/** Resource types whose replacement or removal loses data or keys. */
export const STATEFUL_TYPES = new Set([
  'AWS::RDS::DBInstance',
  'AWS::RDS::DBCluster',
  'AWS::S3::Bucket',
  'AWS::KMS::Key',
  'AWS::SecretsManager::Secret',
  'AWS::DynamoDB::Table',
  'AWS::EFS::FileSystem',
  // A new replication group is a new endpoint, empty: every instance's counters start again.
  'AWS::ElastiCache::ReplicationGroup',
]);

/** Resource types that decide what the edge caches: a change to one shows the behaviour per path. */
const EDGE_TYPES = new Set(['AWS::CloudFront::Distribution', 'AWS::CloudFront::CachePolicy']);

export const isSecurityType = (type: string): boolean =>
  type.startsWith('AWS::IAM::') || type === 'AWS::EC2::SecurityGroup' || type === 'AWS::EC2::SecurityGroupIngress' ||
  type === 'AWS::EC2::SecurityGroupEgress' || type === 'AWS::KMS::Key' || type === 'AWS::S3::BucketPolicy';

const SECRET_NAME = /password|secret|token|private/i;

export interface ResourceRow {
  action: string;
  logicalId: string;
  type: string;
  replacement: string;
  changes: string;
}

export interface ParameterRow {
  name: string;
  old: string;
  new: string;
}

export interface StatefulRisk {
  logicalId: string;
  type: string;
  /** "replaced", "may be replaced" or "removed". */
  risk: string;
  allowed: boolean;
}

export interface Review {
  stackName: string;
  changeSetName: string;
  /** CREATE for a new stack, UPDATE otherwise. */
  kind: 'CREATE' | 'UPDATE';
  resources: ResourceRow[];
  parameters: ParameterRow[];
  /** IAM statement changes (header row first), empty when none. */
  iamStatements: string[][];
  iamPolicies: string[][];
  securityGroups: string[][];
  /** IAM, security-group, bucket-policy and key resources that change at all. */
  securityResources: ResourceRow[];
  stateful: StatefulRisk[];
  /** When the edge's behaviours change: a row per path (what is cached, how long, by what key), empty otherwise. */
  edge: string[][];
}

export interface ReviewInput {
  stackName: string;
  changeSet: ChangeSetInfo;
  kind: 'CREATE' | 'UPDATE';
  oldTemplate: Record<string, unknown> | undefined;
  /** Undefined when only the change set is at hand (--execute-reviewed): no statement-level tables then. */
  newTemplate: Record<string, unknown> | undefined;
  oldParameters: Record<string, string>;
  newParameters: Record<string, string>;
  allowReplace: string[];
}

function changedProperties(change: Change): string {
  const rc = change.ResourceChange;
  if (!rc) return '';
  const names: string[] = [];
  for (const d of rc.Details ?? []) {
    const t = d.Target;
    if (!t) continue;
    const name = t.Attribute === 'Properties' ? (t.Name ?? 'Properties') : (t.Attribute ?? '');
    const label = t.RequiresRecreation === 'Always' ? `${name} (replaces)` : t.RequiresRecreation === 'Conditionally' ? `${name} (may replace)` : name;
    if (label && !names.includes(label)) names.push(label);
  }
  if (!names.length && rc.Scope?.length) names.push(...rc.Scope);
  return names.join(', ');
}

function parameterTypes(template: Record<string, unknown> | undefined): Record<string, { NoEcho?: unknown }> {
  return (template?.Parameters ?? {}) as Record<string, { NoEcho?: unknown }>;
}

export function maskedValue(name: string, value: string | undefined, noEcho: boolean): string {
  if (value === undefined) return '';
  if (noEcho || SECRET_NAME.test(name)) return '****';
  return value;
}

export function buildReview(input: ReviewInput): Review {
  const resources: ResourceRow[] = [];
  const stateful: StatefulRisk[] = [];
  for (const change of input.changeSet.changes) {
    const rc = change.ResourceChange;
    if (!rc) continue;
    const row: ResourceRow = {
      action: rc.Action ?? '',
      logicalId: rc.LogicalResourceId ?? '',
      type: rc.ResourceType ?? '',
      replacement: rc.Action === 'Modify' ? (rc.Replacement ?? '') : '',
      changes: changedProperties(change),
    };
    resources.push(row);
    if (!STATEFUL_TYPES.has(row.type)) continue;
    const risk = row.action === 'Remove' ? 'removed' : row.replacement === 'True' ? 'replaced' : row.replacement === 'Conditional' ? 'may be replaced' : '';
    if (risk) stateful.push({ logicalId: row.logicalId, type: row.type, risk, allowed: input.allowReplace.includes(row.logicalId) });
  }

  const types = { ...parameterTypes(input.oldTemplate), ...parameterTypes(input.newTemplate) };
  const names = [...new Set([...Object.keys(input.oldParameters), ...Object.keys(input.newParameters)])].sort();
  const parameters: ParameterRow[] = [];
  for (const name of names) {
    const before = input.oldParameters[name];
    const after = input.newParameters[name];
    if (before === after) continue;
    const flag = types[name]?.NoEcho;
    const noEcho = flag === true || flag === 'true';
    parameters.push({ name, old: maskedValue(name, before, noEcho), new: maskedValue(name, after, noEcho) });
  }

  // cloudformation-diff reads both raw templates; on a new stack the old one is empty.
  const diff = input.newTemplate ? fullDiff(input.oldTemplate ?? {}, input.newTemplate) : undefined;
  const hasRows = (t: string[][] | undefined): string[][] => (t && t.length > 1 ? t : []);
  return {
    stackName: input.stackName,
    changeSetName: input.changeSet.name,
    kind: input.kind,
    resources,
    parameters,
    iamStatements: hasRows(diff?.iamChanges.summarizeStatements()),
    iamPolicies: hasRows(diff?.iamChanges.summarizeManagedPolicies()),
    securityGroups: hasRows(diff?.securityGroupChanges.summarize()),
    securityResources: resources.filter((r) => isSecurityType(r.type)),
    stateful,
    edge: input.newTemplate && resources.some((r) => EDGE_TYPES.has(r.type)) ? edgeBehaviourRows(input.newTemplate) : [],
  };
}

export const refusedRisks = (review: Review): StatefulRisk[] => review.stateful.filter((s) => !s.allowed);

export const hasSecurityChanges = (review: Review): boolean =>
  review.iamStatements.length > 0 || review.iamPolicies.length > 0 || review.securityGroups.length > 0 || review.securityResources.length > 0;
