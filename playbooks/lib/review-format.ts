// The review written two ways: boxed tables for a terminal or CI log, and GitHub-flavoured
// Markdown tables for a pull-request comment (--review-md). Both carry the same sections.
import { EDGE_HEADER, type Finding } from '../../cloudformation/index.js';
import { formatTable } from '@aws-cdk/cloudformation-diff';
import type { ParameterRow, ResourceRow, Review, StatefulRisk } from './review.js';
import { hasSecurityChanges } from './review.js';

const RESOURCE_HEADER = ['Action', 'Logical ID', 'Type', 'Replacement', 'Changes'];
const PARAMETER_HEADER = ['Parameter', 'Old', 'New'];
const STATEFUL_HEADER = ['Logical ID', 'Type', 'Risk', 'Allowed'];

const resourceCells = (rows: ResourceRow[]): string[][] => rows.map((r) => [r.action, r.logicalId, r.type, r.replacement, r.changes]);
const parameterCells = (rows: ParameterRow[]): string[][] => rows.map((p) => [p.name, p.old, p.new]);
const statefulCells = (rows: StatefulRisk[]): string[][] =>
  rows.map((s) => [s.logicalId, s.type, s.risk, s.allowed ? `yes (--allow-replace ${s.logicalId})` : 'NO: refused']);

const box = (header: string[], rows: string[][]): string => formatTable([header, ...rows], undefined, true);

export interface TextStyle {
  loud(text: string): string;
}

const plain: TextStyle = { loud: (t) => t };

export function reviewText(review: Review, style: TextStyle = plain): string {
  const out: string[] = [];
  out.push(`Review of ${review.stackName}, change set ${review.changeSetName} (${review.kind === 'CREATE' ? 'new stack' : 'update'})`);
  if (!review.resources.length) out.push('  no resource changes');
  else out.push('Resource changes', box(RESOURCE_HEADER, resourceCells(review.resources)));
  if (review.parameters.length) out.push('Parameter changes', box(PARAMETER_HEADER, parameterCells(review.parameters)));
  if (hasSecurityChanges(review)) {
    out.push(style.loud('!!! SECURITY: IAM and security-group changes, read them before approving !!!'));
    if (review.iamStatements.length) out.push('IAM statement changes', formatTable(review.iamStatements, undefined, true));
    if (review.iamPolicies.length) out.push('IAM managed policy changes', formatTable(review.iamPolicies, undefined, true));
    if (review.securityGroups.length) out.push('Security group rule changes', formatTable(review.securityGroups, undefined, true));
    if (review.securityResources.length) {
      out.push('Security-related resources changed', box(RESOURCE_HEADER, resourceCells(review.securityResources)));
    }
  }
  if (review.edge.length) out.push('Edge: what CloudFront caches, per path (first match wins)', box(EDGE_HEADER, review.edge));
  if (review.stateful.length) {
    out.push(style.loud('!!! STATEFUL: data-holding resources replaced or removed !!!'), box(STATEFUL_HEADER, statefulCells(review.stateful)));
    const refused = review.stateful.filter((s) => !s.allowed);
    if (refused.length) {
      out.push(`Refused: to go ahead anyway, add ${refused.map((s) => `--allow-replace ${s.logicalId}`).join(' ')} (snapshot or back up first).`);
    }
  }
  return out.join('\n');
}

/** A Markdown table cell: pipes escaped, line breaks as <br>. */
export const mdCell = (text: string): string => text.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\r?\n/g, '<br>') || ' ';

export function mdTable(header: string[], rows: string[][]): string {
  const line = (cells: string[]): string => `| ${cells.map(mdCell).join(' | ')} |`;
  return [line(header), `| ${header.map(() => '---').join(' | ')} |`, ...rows.map(line)].join('\n');
}

const mdFromCells = (cells: string[][]): string => mdTable(cells[0] ?? [], cells.slice(1));

export function reviewMarkdown(review: Review): string {
  const out: string[] = [];
  out.push(`### \`${review.stackName}\`: change set \`${review.changeSetName}\` (${review.kind === 'CREATE' ? 'new stack' : 'update'})`, '');
  if (!review.resources.length) out.push('No resource changes.', '');
  else out.push(mdTable(RESOURCE_HEADER, resourceCells(review.resources)), '');
  if (review.parameters.length) out.push('#### Parameter changes', '', mdTable(PARAMETER_HEADER, parameterCells(review.parameters)), '');
  if (hasSecurityChanges(review)) {
    out.push('#### :warning: Security: IAM and security-group changes', '');
    if (review.iamStatements.length) out.push('IAM statement changes', '', mdFromCells(review.iamStatements), '');
    if (review.iamPolicies.length) out.push('IAM managed policy changes', '', mdFromCells(review.iamPolicies), '');
    if (review.securityGroups.length) out.push('Security group rule changes', '', mdFromCells(review.securityGroups), '');
    if (review.securityResources.length) out.push('Security-related resources changed', '', mdTable(RESOURCE_HEADER, resourceCells(review.securityResources)), '');
  }
  if (review.edge.length) out.push('#### Edge: what CloudFront caches, per path (first match wins)', '', mdTable(EDGE_HEADER, review.edge), '');
  if (review.stateful.length) {
    out.push('#### :stop_sign: Stateful resources replaced or removed', '', mdTable(STATEFUL_HEADER, statefulCells(review.stateful)), '');
  }
  return out.join('\n');
}

/** The whole --review-md document for a run: one section per stack with changes. */
export function reviewDocument(title: string, reviews: Review[], noChanges: string[], findings: readonly Finding[] = [], notes: readonly string[] = []): string {
  const out = [`## ${title}`, ''];
  for (const n of notes) out.push(`> **${n}**`, '');
  // Warnings of the template checks (a plain-HTTP origin, …): not stopping the deploy, but a reviewer should see them.
  if (findings.length) out.push('#### :warning: Findings', '', ...findings.map((f) => `- \`${f.stack}\` ${f.rule}: ${f.message}`), '');
  if (!reviews.length) out.push('No changes to any stack.', '');
  for (const r of reviews) out.push(reviewMarkdown(r));
  if (noChanges.length) out.push(`No changes: ${noChanges.map((s) => `\`${s}\``).join(', ')}.`, '');
  return out.join('\n');
}
