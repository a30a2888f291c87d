// What to do with a stack in each state, kept beside the deploy flow (as rain keeps it in
// util.go): create, update, wait for an operation in progress, recreate a stack whose creation
// failed (only with approval), or refuse with the command that gets the stack out of its state.
import type { StackInfo } from '../aws/cloudformation.js';

export type StackPlan =
  | { kind: 'create'; reason: string }
  | { kind: 'update'; reason: string }
  | { kind: 'wait'; reason: string }
  | { kind: 'recreate'; reason: string }
  | { kind: 'refuse'; reason: string };

const UPDATABLE = new Set(['CREATE_COMPLETE', 'UPDATE_COMPLETE', 'UPDATE_ROLLBACK_COMPLETE', 'IMPORT_COMPLETE', 'IMPORT_ROLLBACK_COMPLETE']);

export const isInProgress = (status: string): boolean => status.endsWith('_IN_PROGRESS') && status !== 'REVIEW_IN_PROGRESS';
export const isTerminal = (status: string): boolean => !isInProgress(status);

export function planFor(stack: StackInfo | undefined): StackPlan {
  if (!stack || stack.status === 'DELETE_COMPLETE') return { kind: 'create', reason: 'the stack does not exist' };
  const name = stack.name;
  const s = stack.status;
  // A stack made by a CREATE change set that was never executed: a new CREATE change set works on it.
  if (s === 'REVIEW_IN_PROGRESS') return { kind: 'create', reason: 'the stack was reviewed but never created' };
  if (UPDATABLE.has(s)) return { kind: 'update', reason: `the stack is ${s}` };
  if (isInProgress(s)) return { kind: 'wait', reason: `the stack is ${s}: waiting for that operation to end` };
  switch (s) {
    case 'ROLLBACK_COMPLETE':
    case 'ROLLBACK_FAILED':
    case 'CREATE_FAILED':
      return {
        kind: 'recreate',
        reason: `the stack is ${s}: its creation failed, so it cannot be updated; it has to be deleted and created again`,
      };
    case 'UPDATE_ROLLBACK_FAILED':
    case 'UPDATE_FAILED':
      return {
        kind: 'refuse',
        reason:
          `the stack is ${s}: fix what blocked the rollback, then run ` +
          `\`aws cloudformation continue-update-rollback --stack-name ${name}\` ` +
          '(add --resources-to-skip <LogicalId> for resources that cannot be rolled back) and run the playbook again',
      };
    case 'IMPORT_ROLLBACK_FAILED':
      return { kind: 'refuse', reason: `the stack is ${s}: see its events, fix the import, then run the playbook again` };
    case 'DELETE_FAILED':
      return {
        kind: 'refuse',
        reason:
          `the stack is ${s}: delete it by hand with \`aws cloudformation delete-stack --stack-name ${name}\` ` +
          '(add --retain-resources <LogicalId> for resources that cannot be deleted), then run the playbook again',
      };
    default:
      return { kind: 'refuse', reason: `the stack is in state ${s}, which this playbook does not know how to handle` };
  }
}

/** Whether the stack ended where the operation wanted it. */
export function succeeded(operation: 'CREATE' | 'UPDATE' | 'DELETE', status: string): boolean {
  return status === `${operation}_COMPLETE`;
}
