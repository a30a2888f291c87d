// The module set of each target, loaded on demand: a target is one line here and its plays.
// Kept apart from targets.ts, which the plays import for their types.
import type { TargetModule } from './targets.js';

export const TARGETS: Record<string, () => Promise<TargetModule>> = {
  aws: () => import('./plays/aws-target.js'),
  local: () => import('./plays/local-deploy.js'),
};
