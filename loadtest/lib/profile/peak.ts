// A profile's peak as requests per minute per path prefix: the highest journey rate of any phase
// (journeys started per second, at a phase's start or ramp end), times each journey's share of the
// weights, times its steps under the prefix. That is the steady state at the peak: every journey
// started sends all its steps. The preflight compares it with what a fleet can reach
// (requestsPerTarget × max); it is the loadtest's public answer to "how much does this profile send".
import type { Profile } from './types.js';

export interface ProfilePeak {
  profile: string;
  /** Journeys per second at the peak, and the phase that reaches it. */
  journeysPerSecond: number;
  phase: string;
  /** Requests per minute at the peak whose path starts with each prefix asked for. */
  requestsPerMinute: Record<string, number>;
}

export function profilePeak(profile: Pick<Profile, 'name' | 'phases' | 'journeys'>, prefixes: readonly string[]): ProfilePeak {
  let journeysPerSecond = 0;
  let phase = '';
  for (const p of profile.phases) {
    const top = Math.max(p.rate, p.rampTo);
    if (top > journeysPerSecond) [journeysPerSecond, phase] = [top, p.name];
  }
  const weights = profile.journeys.reduce((n, j) => n + j.weight, 0);
  const requestsPerMinute: Record<string, number> = {};
  for (const prefix of prefixes) {
    const perJourney = weights === 0 ? 0 : profile.journeys.reduce((n, j) => n + (j.weight / weights) * j.steps.filter((s) => underPrefix(s.path.source, prefix)).length, 0);
    requestsPerMinute[prefix] = journeysPerSecond * 60 * perJourney;
  }
  return { profile: profile.name, journeysPerSecond, phase, requestsPerMinute };
}

function underPrefix(path: string, prefix: string): boolean {
  return path === prefix || path.startsWith(`${prefix}/`) || path.startsWith(`${prefix}?`);
}
