// What a parent and its generator processes say to each other over the IPC channel: the job, the
// agreed start, and back the generator's lines, its status once a second, ready and done.
import type { Status } from '../progress.js';
import type { TargetOptions } from '../target.js';

export interface GeneratorJob {
  profile: string;
  target: string;
  targetOptions: TargetOptions;
  shard: { index: number; count: number };
  runId: string;
  /** where the generator writes its result.json */
  resultFile: string;
  /** whether this generator watches the fleet (one of them is enough) */
  probe: boolean;
}

export type ToGenerator = { type: 'job'; job: GeneratorJob } | { type: 'start'; at: string };

export type FromGenerator =
  | { type: 'line'; text: string }
  | { type: 'status'; text: string }
  | { type: 'update'; status: Status }
  | { type: 'ready' }
  | { type: 'done'; passed: boolean }
  | { type: 'error'; message: string; usage: boolean };
