// The cloudformation stack module, top to bottom like rain's deploy: look at the stack (state
// handling in ./stack-state.ts) → template body, through S3 when too large → change set → wait →
// review → refuse stateful replacement unless allowed → approve → execute → stream events to a
// final state → register the outputs. --check stops after the review and deletes the change set
// (or keeps it, named, for --execute-reviewed). A change set without changes is ok and deleted.
import { createHash, randomUUID } from 'node:crypto';
import { formatDifferences, fullDiff } from '@aws-cdk/cloudformation-diff';
import { Writable } from 'node:stream';
import { type DeployedTemplate, parseTemplateBody, TEMPLATE_BODY_LIMIT, type Template, templateBody } from '../../../cloudformation/index.js';
import type { ChangeSetInfo, CloudFormationApi, StackInfo } from '../aws/cloudformation.js';
import { sleep } from '../aws/retry.js';
import type { S3Api } from '../aws/s3.js';
import { RefusedError } from '../errors.js';
import { type Review, buildReview, refusedRisks } from '../review.js';
import { reviewText } from '../review-format.js';
import { type TaskContext, type TaskOutcome, changed, ok } from '../runner.js';
import { formatEvent, latestEventId, rootCause, watchStack } from './stack-events.js';
import { type StackPlan, planFor, succeeded } from './stack-state.js';

/** Prefix of change sets kept by --check --keep-change-sets, found again by --execute-reviewed. */
export const REVIEWED_PREFIX = 'saleday-reviewed-';

export interface KeptChangeSet {
  stackName: string;
  changeSetName: string;
  changeSetId: string;
}

/** What one run collects across stacks: reviews for --review-md, kept change sets to list. */
export class ReviewLog {
  readonly reviews: Review[] = [];
  readonly unchanged: string[] = [];
  readonly kept: KeptChangeSet[] = [];
  /** What the reviewer must know before approving (a sale event under way), at the top of --review-md. */
  readonly notes: string[] = [];
}

export interface StackDeps {
  cfn: CloudFormationApi;
  s3?: S3Api | undefined;
  pollMs: number;
  log: ReviewLog;
}

export interface StackArgs {
  stackName: string;
  template: Template;
  /** Already resolved (see resolveParameters). */
  parameters: Record<string, string>;
  tags: Record<string, string>;
  /** Bucket for templates over the inline limit (the artifacts bucket, once it exists). */
  templateBucket?: string | undefined;
}

/** Where a deploy uploads a stack's templates that are over the inline limit (in the artifacts bucket). */
export const templateKeyPrefix = (stackName: string): string => `templates/${stackName}/`;

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

const CHANGE_SET_DONE = new Set(['CREATE_COMPLETE', 'FAILED', 'DELETE_COMPLETE', 'DELETE_FAILED']);

/** CloudFormation's ways of saying an UPDATE change set has nothing in it. */
export const isNoChanges = (reason: string | undefined): boolean =>
  /didn't contain changes|No updates are to be performed|does not contain any changes/i.test(reason ?? '');

const ACTIONS: Array<[action: string, pending: string, done: string]> = [
  ['Add', 'to add', 'added'],
  ['Modify', 'to modify', 'modified'],
  ['Remove', 'to remove', 'removed'],
  ['Import', 'to import', 'imported'],
  ['Dynamic', 'dynamic', 'dynamic'],
];

/** "2 to add, 1 to modify" before execution, "2 added, 1 modified" after. */
function countActions(cs: ChangeSetInfo, tense: 'pending' | 'done' = 'pending'): string {
  const n: Record<string, number> = {};
  for (const c of cs.changes) {
    const a = c.ResourceChange?.Action ?? 'Other';
    n[a] = (n[a] ?? 0) + 1;
  }
  const parts = ACTIONS.filter(([a]) => n[a]).map(([a, pending, done]) => `${n[a]} ${tense === 'pending' ? pending : done}`);
  return parts.join(', ') || 'no resource changes';
}

/** The stack state a kept change set was reviewed at; a stack never created counts as none. */
function reviewStamp(stack: StackInfo | undefined): string {
  return stack && stack.status !== 'REVIEW_IN_PROGRESS' ? `reviewed at ${stack.status} ${stack.lastChanged}` : 'reviewed at NONE';
}

/** Deploys one stack; the outcome's data are the stack's outputs. */
export async function deployStack(args: StackArgs, deps: StackDeps, ctx: TaskContext): Promise<TaskOutcome> {
  const { cfn } = deps;
  const name = args.stackName;

  // 1. Where is the stack? Wait out operations in progress; recover or refuse the failed states.
  let stack = await cfn.describeStack(name);
  let plan: StackPlan = planFor(stack);
  if (plan.kind === 'wait') {
    ctx.progress(plan.reason);
    await watchStack(cfn, name, { pollMs: deps.pollMs, signal: ctx.signal, afterEventId: await latestEventId(cfn, name), onEvent: (e) => ctx.progress(formatEvent(e)) });
    stack = await cfn.describeStack(name);
    plan = planFor(stack);
  }
  if (plan.kind === 'refuse' || plan.kind === 'wait') throw new RefusedError(`${name}: ${plan.reason}`);
  if (plan.kind === 'recreate') {
    if (ctx.check) {
      return changed(`would delete ${name} and create it again (${plan.reason}); that needs approval. It would create ${Object.keys(args.template.Resources).length} resources`);
    }
    ctx.print(`${name}: ${plan.reason}.`);
    const yes = await ctx.confirm(`Delete ${name} (${stack?.status}, it holds no resources) and create it again?`, 'Re-run with --yes to approve deleting and re-creating it.');
    if (!yes) throw new RefusedError(`${name} stays ${stack?.status}: not approved at the prompt, nothing changed`);
    await deleteAndWait(name, deps, ctx);
    stack = undefined;
    plan = { kind: 'create', reason: 'the stack was deleted after a failed creation' };
  }
  const kind = plan.kind === 'create' ? 'CREATE' : 'UPDATE';

  // 2. The template body, or its S3 URL when over the inline limit.
  const body = templateBody(args.template);
  let templateUrl: string | undefined;
  if (body.length > TEMPLATE_BODY_LIMIT) {
    if (!args.templateBucket || !deps.s3) {
      throw new RefusedError(`${name}: the template is ${body.length} bytes, over CloudFormation's inline limit of ${TEMPLATE_BODY_LIMIT}, and there is no artifacts bucket yet to upload it to`);
    }
    const key = `${templateKeyPrefix(name)}${sha256(body)}.template`;
    if (ctx.check) {
      if (!(await deps.s3.headObject(args.templateBucket, key))) {
        return changed(`would upload the template (${body.length} bytes) to s3://${args.templateBucket}/${key} and review it; --check uploads nothing`);
      }
    } else if (!(await deps.s3.headObject(args.templateBucket, key))) {
      await deps.s3.putObject(args.templateBucket, key, Buffer.from(body), { contentType: 'text/plain' });
    }
    templateUrl = `https://${args.templateBucket}.s3.amazonaws.com/${key}`;
  }

  // 3. The change set, named after what it holds; a kept one carries the stack state it was reviewed at.
  const contentHash = sha256(JSON.stringify([body, args.parameters, args.tags])).slice(0, 12);
  const keep = ctx.check && ctx.options.keepChangeSets;
  const changeSetName = keep ? `${REVIEWED_PREFIX}${contentHash}` : `saleday-${contentHash}`;
  if (keep && stack) await dropReviewed(name, deps);
  const existing = stack ? (await cfn.listChangeSets(name)).find((c) => c.name === changeSetName) : undefined;
  if (existing) await cfn.deleteChangeSet(name, changeSetName);
  ctx.progress(`creating change set ${changeSetName} (${kind})`);
  await cfn.createChangeSet({
    stackName: name,
    changeSetName,
    type: kind,
    templateBody: templateUrl ? undefined : body,
    templateUrl,
    parameters: args.parameters,
    tags: args.tags,
    description: keep ? reviewStamp(stack) : undefined,
    clientToken: `${changeSetName}-${randomUUID().slice(0, 8)}`,
  });
  const cs = await waitForChangeSet(name, changeSetName, deps, ctx);

  // 4. Nothing to do is success.
  if (cs.status === 'FAILED') {
    await cfn.deleteChangeSet(name, changeSetName);
    if (isNoChanges(cs.statusReason)) {
      deps.log.unchanged.push(name);
      return ok('no changes', stack?.outputs);
    }
    throw new Error(`${name}: the change set could not be created: ${cs.statusReason ?? 'no reason given'}`);
  }

  // 5. The review.
  const oldTemplate = stack ? parseTemplateBody(await cfn.getTemplate(name)) : undefined;
  const review = buildReview({
    stackName: name,
    changeSet: cs,
    kind,
    oldTemplate,
    newTemplate: args.template,
    oldParameters: stack?.parameters ?? {},
    newParameters: args.parameters,
    allowReplace: ctx.options.allowReplace,
  });
  deps.log.reviews.push(review);
  ctx.print(reviewText(review, { loud: (t) => t }));
  if (ctx.options.diff) ctx.print(templateDiff(oldTemplate, args.template));
  const refused = refusedRisks(review);
  if (refused.length) {
    await cfn.deleteChangeSet(name, changeSetName);
    throw new RefusedError(
      `${name}: refused, the change set would ${refused.map((r) => `${r.risk === 'removed' ? 'remove' : 'replace'} ${r.logicalId} (${r.type})`).join(', ')}; ` +
        `nothing executed. Back it up, then re-run with ${refused.map((r) => `--allow-replace ${r.logicalId}`).join(' ')} to allow it`,
    );
  }
  const summary = countActions(cs);

  // 6. --check ends here.
  if (ctx.check) {
    if (keep) {
      deps.log.kept.push({ stackName: name, changeSetName, changeSetId: cs.id });
      return changed(`would ${kind === 'CREATE' ? 'create' : 'update'}: ${summary}; change set kept as ${changeSetName}`, stack?.outputs);
    }
    await cfn.deleteChangeSet(name, changeSetName);
    return changed(`would ${kind === 'CREATE' ? 'create' : 'update'}: ${summary}`, stack?.outputs);
  }

  // 7. Approval, then execution.
  let approved: boolean;
  try {
    approved = await ctx.confirm(
      `Execute change set ${changeSetName} on ${name} (${summary})?`,
      'Re-run with --yes to approve, or review with --check --keep-change-sets and approve with --execute-reviewed.',
    );
  } catch (err) {
    await cfn.deleteChangeSet(name, changeSetName);
    throw err;
  }
  if (!approved) {
    await cfn.deleteChangeSet(name, changeSetName);
    throw new RefusedError(`${name}: not approved at the prompt; change set deleted, nothing executed`);
  }
  return execute(name, changeSetName, kind, cs, deps, ctx);
}

async function execute(name: string, changeSetName: string, kind: 'CREATE' | 'UPDATE', cs: ChangeSetInfo, deps: StackDeps, ctx: TaskContext): Promise<TaskOutcome> {
  const { cfn } = deps;
  const mark = kind === 'UPDATE' ? await latestEventId(cfn, name) : undefined;
  let status = 'executing';
  const release = ctx.whileRunning(
    () =>
      `${name}: change set ${changeSetName} is ${status} in AWS and goes on without this run. ` +
      `Watch it with \`aws cloudformation describe-stack-events --stack-name ${name}\`; a new run waits for it to end.`,
  );
  try {
    ctx.progress(`executing change set ${changeSetName}`);
    await cfn.executeChangeSet(name, changeSetName, `${changeSetName}-${randomUUID().slice(0, 8)}`);
    const result = await watchStack(cfn, name, {
      pollMs: deps.pollMs,
      signal: ctx.signal,
      afterEventId: mark,
      onEvent: (e) => {
        if (e.logicalId === name) status = e.status;
        ctx.progress(formatEvent(e));
      },
    });
    if (!succeeded(kind, result.status)) {
      const causes = rootCause(result.events);
      const lines = causes.map((e) => `root cause: ${e.logicalId} (${e.type}) ${e.status}: ${e.reason ?? 'no reason given'}`);
      if (!lines.length && result.statusReason) lines.push(`reason: ${result.statusReason}`);
      throw new Error([`${name} ended in ${result.status}`, ...lines].join('\n'));
    }
    const after = await cfn.describeStack(name);
    return changed(`${kind === 'CREATE' ? 'created' : 'updated'}: ${countActions(cs, 'done')}`, after?.outputs);
  } finally {
    release();
  }
}

async function waitForChangeSet(stackName: string, changeSetName: string, deps: StackDeps, ctx: TaskContext): Promise<ChangeSetInfo> {
  const release = ctx.whileRunning(() => `${stackName}: change set ${changeSetName} is being created (nothing is executed); delete it with \`aws cloudformation delete-change-set --stack-name ${stackName} --change-set-name ${changeSetName}\``);
  try {
    for (;;) {
      const cs = await deps.cfn.describeChangeSet(stackName, changeSetName);
      if (CHANGE_SET_DONE.has(cs.status)) return cs;
      ctx.detail(`change set ${changeSetName}: ${cs.status}`);
      await sleep(deps.pollMs, ctx.signal);
    }
  } finally {
    release();
  }
}

async function deleteAndWait(name: string, deps: StackDeps, ctx: TaskContext): Promise<void> {
  const mark = await latestEventId(deps.cfn, name);
  ctx.progress(`deleting ${name}`);
  await deps.cfn.deleteStack(name, `delete-${randomUUID().slice(0, 8)}`);
  const result = await watchStack(deps.cfn, name, { pollMs: deps.pollMs, signal: ctx.signal, afterEventId: mark, onEvent: (e) => ctx.progress(formatEvent(e)) });
  if (result.status !== 'DELETE_COMPLETE') {
    const causes = rootCause(result.events).map((e) => `root cause: ${e.logicalId} (${e.type}) ${e.status}: ${e.reason ?? ''}`);
    throw new Error([`${name}: deleting it ended in ${result.status}`, ...causes].join('\n'));
  }
}

/** Older reviewed change sets of a stack are dropped, so --execute-reviewed finds exactly one. */
async function dropReviewed(name: string, deps: StackDeps): Promise<void> {
  for (const c of await deps.cfn.listChangeSets(name)) {
    if (c.name.startsWith(REVIEWED_PREFIX)) await deps.cfn.deleteChangeSet(name, c.name);
  }
}

function templateDiff(oldTemplate: DeployedTemplate | undefined, newTemplate: Template): string {
  const chunks: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer | string, _enc, cb) {
      chunks.push(chunk.toString());
      cb();
    },
  });
  formatDifferences(sink, fullDiff(oldTemplate ?? {}, newTemplate));
  // formatDifferences colours with chalk; the review stays plain text in logs.
  // eslint-disable-next-line no-control-regex
  return chunks.join('').replace(/\x1b\[[0-9;]*m/g, '').trimEnd();
}

/** --execute-reviewed: executes the change set kept by --check --keep-change-sets, unless the stack moved. */
export async function executeReviewedStack(stackName: string, deps: StackDeps, ctx: TaskContext): Promise<TaskOutcome> {
  const { cfn } = deps;
  const stack = await cfn.describeStack(stackName);
  const reviewed = stack ? (await cfn.listChangeSets(stackName)).filter((c) => c.name.startsWith(REVIEWED_PREFIX)) : [];
  if (!reviewed.length) return ok('no reviewed change set: nothing to execute', stack?.outputs);
  if (reviewed.length > 1) {
    throw new RefusedError(`${stackName} has ${reviewed.length} reviewed change sets (${reviewed.map((c) => c.name).join(', ')}); review again with --check --keep-change-sets`);
  }
  const kept = reviewed[0]!;
  const cs = await cfn.describeChangeSet(stackName, kept.name);
  const kind = stack!.status === 'REVIEW_IN_PROGRESS' ? 'CREATE' : 'UPDATE';
  const now = reviewStamp(stack);
  if (cs.executionStatus !== 'AVAILABLE' || (cs.description ?? '') !== now) {
    throw new RefusedError(
      `${stackName} changed since the review (${cs.description ?? 'no review stamp'}; now ${now.replace('reviewed at ', '')}; change set ${cs.executionStatus ?? 'UNKNOWN'}): ` +
        `nothing executed. Review again with --check --keep-change-sets`,
    );
  }
  // The templates before and after, so the review carries the IAM and security-group tables too.
  const review = buildReview({
    stackName,
    changeSet: cs,
    kind,
    oldTemplate: kind === 'UPDATE' ? parseTemplateBody(await cfn.getTemplate(stackName)) : undefined,
    newTemplate: parseTemplateBody(await cfn.getTemplate(stackName, kept.name)),
    oldParameters: stack!.parameters,
    newParameters: cs.parameters,
    allowReplace: ctx.options.allowReplace,
  });
  ctx.print(reviewText(review));
  const refused = refusedRisks(review);
  if (refused.length) {
    throw new RefusedError(`${stackName}: refused, the reviewed change set would replace or remove ${refused.map((r) => r.logicalId).join(', ')}; re-run with ${refused.map((r) => `--allow-replace ${r.logicalId}`).join(' ')} to allow it`);
  }
  return execute(stackName, kept.name, kind, cs, deps, ctx);
}

/** Outputs of a stack this run does not deploy (--limit, --tags): read only. */
export async function readStackOutputs(stackName: string, deps: StackDeps): Promise<TaskOutcome> {
  const stack = await deps.cfn.describeStack(stackName);
  if (!stack || stack.status === 'REVIEW_IN_PROGRESS') throw new RefusedError(`${stackName} is not deployed yet: deploy it first (run without --limit/--tags)`);
  return ok(`outputs read (${stack.status})`, stack.outputs);
}
