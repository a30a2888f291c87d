// The stack deletion module: a stack that is not there is ok (a second destroy changes nothing);
// an operation in progress is waited for; then DeleteStack, events streamed until the stack is
// gone. A deletion that ends in DELETE_FAILED is reported with its root-cause events (the first
// failing ones, as for a deploy) and what to do about each; a stack left DELETE_FAILED by an
// earlier run is simply deleted again. --check only says what would go.
import { randomUUID } from 'node:crypto';
import type { CloudFormationApi, StackEvent } from '../aws/cloudformation.js';
import { type TaskContext, type TaskOutcome, changed, ok } from '../runner.js';
import { formatEvent, latestEventId, rootCause, watchStack } from './stack-events.js';
import { isInProgress } from './stack-state.js';

export interface DeleteStackDeps {
  cfn: CloudFormationApi;
  pollMs: number;
}

export async function deleteStack(stackName: string, deps: DeleteStackDeps, ctx: TaskContext): Promise<TaskOutcome> {
  const { cfn } = deps;
  let stack = await cfn.describeStack(stackName);
  if (!stack || stack.status === 'DELETE_COMPLETE') return ok('not there');
  if (isInProgress(stack.status)) {
    ctx.progress(`the stack is ${stack.status}: waiting for that operation to end`);
    await watchStack(cfn, stack.id, { pollMs: deps.pollMs, signal: ctx.signal, afterEventId: await latestEventId(cfn, stack.id), onEvent: (e) => ctx.progress(formatEvent(e)) });
    stack = await cfn.describeStack(stack.id);
    if (!stack || stack.status === 'DELETE_COMPLETE') return ok('not there (deleted by the operation that was running)');
  }
  if (ctx.check) return changed(`would delete ${stackName} (${stack.status})`);

  const mark = await latestEventId(cfn, stack.id);
  const release = ctx.whileRunning(
    () => `${stackName}: the deletion goes on in AWS without this run; watch it with \`aws cloudformation describe-stack-events --stack-name ${stack.id}\``,
  );
  try {
    ctx.progress(`deleting ${stackName}`);
    await cfn.deleteStack(stack.id, `destroy-${randomUUID().slice(0, 8)}`);
    const result = await watchStack(cfn, stack.id, { pollMs: deps.pollMs, signal: ctx.signal, afterEventId: mark, onEvent: (e) => ctx.progress(formatEvent(e)) });
    if (result.status === 'DELETE_COMPLETE') return changed('deleted');
    const causes = rootCause(result.events);
    const lines = causes.map((e) => `root cause: ${e.logicalId} (${e.type}) ${e.status}: ${e.reason ?? 'no reason given'}\n  fix: ${fixFor(e)}`);
    if (!lines.length && result.statusReason) lines.push(`reason: ${result.statusReason}`);
    lines.push(
      `then run destroy again (it deletes ${stackName} again), or keep what cannot go with ` +
        `\`aws cloudformation delete-stack --stack-name ${stackName} --retain-resources ${causes.map((e) => e.logicalId).join(' ') || '<LogicalId>'}\``,
    );
    throw new Error([`${stackName}: deleting it ended in ${result.status}`, ...lines].join('\n'));
  } finally {
    release();
  }
}

/** What to do about a resource CloudFormation could not delete, from what its event says. */
export function fixFor(e: StackEvent): string {
  const reason = e.reason ?? '';
  if (e.type === 'AWS::S3::Bucket' && /not empty|BucketNotEmpty/i.test(reason)) {
    return `empty the bucket first (every object version): \`aws s3api list-object-versions --bucket <bucket>\`, then delete them, or \`aws s3 rm s3://<bucket> --recursive\` for an unversioned bucket`;
  }
  if (/deletion protection|DeletionProtection/i.test(reason)) {
    return 'turn its deletion protection off (run destroy with --allow-destroy <environment>, which does that first)';
  }
  if (/in use|dependency|dependent|DependencyViolation|has dependencies/i.test(reason)) {
    return 'something outside this stack still uses it (the reason names it): remove or detach that first';
  }
  return 'see the reason above; fix it in AWS';
}
