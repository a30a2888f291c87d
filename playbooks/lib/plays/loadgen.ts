// The generators' place on AWS: the loadgen stack (reviewed as a change set and deployed like every
// other stack) and the harness artifact in the artifacts bucket. `./loadtest/run.mjs --on aws`
// calls prepareLoadgen before it launches tasks.
import type { LoadgenPlacement, PrepareLoadgenOptions } from '../../../loadtest/lib/generators/placement.js';

export async function prepareLoadgen(_opts: PrepareLoadgenOptions): Promise<LoadgenPlacement> {
  throw new Error('not built yet: the loadgen stack is being wired (branch aws-stack)');
}
