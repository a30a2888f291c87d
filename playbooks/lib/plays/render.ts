// render, for any target: the inventory's stacks rendered, validated with --validate, and written to
// <-o dir>/<environment>/<stack>.yaml (build/cloudformation by default), every file listed with
// what happened to it. Sale events whose pre-warm time has passed are a warning: Auto Scaling
// refuses scheduled actions in the past, so such an inventory would not deploy.
import type { TargetRun } from '../targets.js';
import { warnPastSaleEvents } from './sale-events.js';
import { templateTasks } from './template-tasks.js';

export async function renderPlay(run: TargetRun): Promise<void> {
  warnPastSaleEvents(run.play, run.environment);
  await templateTasks(run.play, run.stacks, { validate: run.play.options.validate, listFiles: true });
}
