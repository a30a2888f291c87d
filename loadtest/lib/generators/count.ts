// How many generators a profile needs by default: one per core when its peak asks more requests
// per second than one process sends comfortably with journeys (placeholders, captures, JSON), else
// one, which is the single-process run.
import { availableParallelism } from 'node:os';
import type { Profile } from '../profile/types.js';
import { UsageError } from '../usage-error.js';

/** Requests per second one generator process sends with room to spare (bench: npm run bench -- loadtest). */
export const REQUESTS_PER_GENERATOR = 5000;

/** The profile's peak in requests per second: the highest journey rate times the mean requests per journey. */
export function peakRequestRate(profile: Profile): number {
  const peak = Math.max(0, ...profile.phases.map((p) => Math.max(p.rate, p.rampTo)));
  const weights = profile.journeys.reduce((a, j) => a + j.weight, 0) || 1;
  const perJourney = profile.journeys.reduce((a, j) => a + (j.weight / weights) * j.steps.length, 0);
  return peak * perJourney;
}

export function defaultGenerators(profile: Profile, cores = availableParallelism()): number {
  return peakRequestRate(profile) > REQUESTS_PER_GENERATOR ? Math.max(1, cores) : 1;
}

/** `--generators N` as given, or the default for the profile; refuses what cannot go together. */
export function generatorCount(value: string | undefined, profile: Profile, others: { shard: boolean; startAt: boolean }): number {
  if (value === undefined) return others.shard || others.startAt ? 1 : defaultGenerators(profile);
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1) throw new UsageError(`--generators ${value} is not a whole number ≥ 1 (e.g. --generators 2; 1 runs in this process)`);
  if (n > 1 && others.shard) throw new UsageError('--generators runs every shard itself: drop --shard (or run one shard per process with --generators 1)');
  if (n > 1 && others.startAt) throw new UsageError('--generators agrees the start itself once every generator is ready: drop --start-at');
  return n;
}

/** `--generators N` on AWS, or as many tasks as the profile's peak needs (one vCPU each). */
export function awsGeneratorCount(value: string | undefined, profile: Profile): number {
  if (value === undefined) return Math.max(1, Math.ceil(peakRequestRate(profile) / REQUESTS_PER_GENERATOR));
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1) throw new UsageError(`--generators ${value} is not a whole number ≥ 1 (e.g. --generators 4)`);
  return n;
}
