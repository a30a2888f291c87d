// Stack events as they arrive while an operation runs, and the root cause when it fails: the
// first failing events in time order (the last ones are mostly "cancelled" consequences).
import type { CloudFormationApi, StackEvent } from '../aws/cloudformation.js';
import { sleep } from '../aws/retry.js';
import { isTerminal } from './stack-state.js';

export function formatEvent(e: StackEvent): string {
  const time = e.time.toISOString().slice(11, 19);
  return `${time} ${e.status} ${e.type} ${e.logicalId}${e.reason ? `: ${e.reason}` : ''}`;
}

export interface WatchOptions {
  pollMs: number;
  signal?: AbortSignal | undefined;
  /** The newest event before the operation started; only later events are shown. */
  afterEventId?: string | undefined;
  onEvent(e: StackEvent): void;
}

export interface WatchResult {
  /** The final status; DELETE_COMPLETE when the stack is gone. */
  status: string;
  statusReason?: string | undefined;
  /** Every event of this operation, oldest first. */
  events: StackEvent[];
}

/** Newest event id of a stack (the mark before an operation), undefined for a stack with none. */
export async function latestEventId(cfn: CloudFormationApi, stackName: string): Promise<string | undefined> {
  const [newest] = await cfn.recentEvents(stackName, undefined, 1);
  return newest?.id;
}

/** Polls the stack until it reaches a terminal state, reporting each new event once, in order. */
export async function watchStack(cfn: CloudFormationApi, stackName: string, opts: WatchOptions): Promise<WatchResult> {
  const seen: StackEvent[] = [];
  let mark = opts.afterEventId;
  // Once known, the stack id (ARN) is used: it still answers after the stack is deleted.
  let ref = stackName;
  for (;;) {
    const stack = await cfn.describeStack(ref);
    if (stack) ref = stack.id;
    const fresh = stack ? (await cfn.recentEvents(stack.id, mark)).reverse() : [];
    for (const e of fresh) {
      seen.push(e);
      opts.onEvent(e);
    }
    if (fresh.length) mark = fresh[fresh.length - 1]!.id;
    if (!stack || stack.status === 'DELETE_COMPLETE') return { status: 'DELETE_COMPLETE', events: seen };
    if (isTerminal(stack.status)) return { status: stack.status, statusReason: stack.statusReason, events: seen };
    await sleep(opts.pollMs, opts.signal);
  }
}

const CONSEQUENCE = /cancel+ed|The following resource\(s\) failed|Resource update cancelled|Resource creation cancelled/i;

/** The first failing events of an operation: what to fix. */
export function rootCause(events: StackEvent[], max = 3): StackEvent[] {
  const failedEvents = events.filter((e) => e.status.endsWith('_FAILED'));
  const causes = failedEvents.filter((e) => !CONSEQUENCE.test(e.reason ?? ''));
  return (causes.length ? causes : failedEvents).slice(0, max);
}
