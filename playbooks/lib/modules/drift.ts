// The drift module: CloudFormation drift detection on one stack, and each drifted resource shown
// with its expected and actual values (secret-looking properties masked).
import type { StackResourceDrift } from '@aws-sdk/client-cloudformation';
import type { CloudFormationApi } from '../aws/cloudformation.js';
import { sleep } from '../aws/retry.js';
import { type TaskContext, type TaskOutcome, changed, ok, skipped } from '../runner.js';

const SECRET_PATH = /password|secret|token|privatekey/i;

const show = (path: string, value: string | undefined): string => (value === undefined ? '(none)' : SECRET_PATH.test(path) ? '****' : value);

export function formatDrift(drifts: StackResourceDrift[]): string {
  const lines: string[] = [];
  for (const d of drifts) {
    lines.push(`${d.LogicalResourceId ?? '?'} (${d.ResourceType ?? '?'}, ${d.PhysicalResourceId ?? '?'}): ${d.StackResourceDriftStatus ?? '?'}`);
    for (const p of d.PropertyDifferences ?? []) {
      const path = p.PropertyPath ?? '?';
      lines.push(`  ${path} ${p.DifferenceType ?? ''}: expected ${show(path, p.ExpectedValue)}, actual ${show(path, p.ActualValue)}`);
    }
  }
  return lines.join('\n');
}

export async function detectDrift(stackName: string, cfn: CloudFormationApi, pollMs: number, ctx: TaskContext): Promise<TaskOutcome> {
  const stack = await cfn.describeStack(stackName);
  if (!stack || stack.status === 'REVIEW_IN_PROGRESS') return skipped(`${stackName} is not deployed`);
  const id = await cfn.detectDrift(stackName);
  let status = await cfn.driftDetectionStatus(id);
  while (status.status === 'DETECTION_IN_PROGRESS') {
    ctx.detail('drift detection in progress');
    await sleep(pollMs, ctx.signal);
    status = await cfn.driftDetectionStatus(id);
  }
  if (status.status === 'DETECTION_FAILED' && !status.driftStatus) throw new Error(`${stackName}: drift detection failed: ${status.reason ?? 'no reason given'}`);
  if (status.driftStatus !== 'DRIFTED') return ok(`in sync${status.status === 'DETECTION_FAILED' ? ` (some resources could not be checked: ${status.reason ?? ''})` : ''}`);
  const drifts = await cfn.resourceDrifts(stackName);
  ctx.print(formatDrift(drifts));
  return changed(`DRIFTED: ${drifts.length} resource${drifts.length === 1 ? '' : 's'} differ from the template`);
}
