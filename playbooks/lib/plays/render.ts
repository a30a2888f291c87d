// render, for any target: the inventory's stacks rendered, validated with --validate, and written to
// <-o dir>/<environment>/<stack>.yaml (build/cloudformation by default), every file listed with
// what happened to it. The templates are for the run's time (-e now=<ISO> for another): sale events
// over by then are left out with a warning, one under way keeps only what can still happen.
import type { TargetRun } from '../targets.js';
import { warnSaleEvents } from './sale-events.js';
import { templateTasks } from './template-tasks.js';

export async function renderPlay(run: TargetRun): Promise<void> {
  warnSaleEvents(run.play, run.environment, run.now);
  await templateTasks(run.play, run.stacks, { validate: run.play.options.validate, listFiles: true });
}
