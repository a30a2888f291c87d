// result.json: everything a run measured, in a form that merges across shards and that the
// report and the thresholds read. Series are per second; histograms are HDR, encoded.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { GeneratorSummary } from './generators/summary.js';
import type { FleetSample, ScalingActivity, TargetMetrics } from './probes/probe.js';
import type { Phase, Threshold } from './profile/types.js';
import type { Recording } from './recorder.js';

export interface PhaseResult extends Phase {
  /** journeys the schedule starts in the phase (this result's share) */
  scheduled: number;
  /** journeys whose first request was written during the phase */
  started: number;
  dropped: number;
  scheduledRate: number;
  achievedRate: number;
}

export interface Verdict {
  path: string;
  label: string;
  kind: Threshold['kind'];
  ok: boolean;
  /** what was measured, in words and numbers */
  measured: string;
}

export interface OversellResult {
  /** `sold`: units of answered sales; `unanswered`: units of sale steps with no answer or a 5xx, which may have sold (absent in older results) */
  skus: Array<{ sku: string; before: number | null; after: number | null; sold: number; unanswered?: number }>;
  /** why stock could not be read, when it could not */
  error: string | undefined;
  /** when the stock was read before and after, for merging shards */
  readBefore: string;
  readAfter: string;
}

export interface SetupResult {
  journey: string;
  each: string;
  runs: number;
  failed: number;
}

export interface ProcessInfo {
  shard: string;
  host: string;
  pid: number;
  startedAt: string;
  endedAt: string;
  /** responses autocannon itself counted: a cross-check of the recorder's total */
  autocannon: { completed: number } | undefined;
}

export interface RunResult {
  version: 1;
  runId: string;
  profile: {
    name: string;
    file: string;
    description: string;
    seed: number;
    maxInFlight: number;
    maxQueued: number;
    durationMs: number;
    phases: Phase[];
    journeys: Array<{ name: string; weight: number; steps: Array<{ name: string; endpoint: string }> }>;
    thresholds: Threshold[];
  };
  target: { kind: string; url: string; label: string };
  processes: ProcessInfo[];
  /** time 0 of the schedule */
  startedAt: string;
  endedAt: string;
  recording: Recording;
  phases: PhaseResult[];
  fleet: { probe: string | null; samples: FleetSample[]; activities: ScalingActivity[]; metrics: TargetMetrics | undefined; errors: string[] };
  oversell: OversellResult | undefined;
  setup: SetupResult[];
  aborted: { atS: number; reason: string } | undefined;
  /** which generator saw what, when several generators ran the shards of this run (--generators N) */
  generators?: GeneratorSummary[] | undefined;
  verdicts: Verdict[];
  passed: boolean;
}

export function phaseResults(phases: Phase[], scheduledPerPhase: number[], recording: Recording): PhaseResult[] {
  return phases.map((p, i) => {
    const seconds = p.durationMs / 1000;
    const scheduled = scheduledPerPhase[i] ?? 0;
    const started = recording.phases[i]?.started ?? 0;
    return { ...p, scheduled, started, dropped: recording.phases[i]?.dropped ?? 0, scheduledRate: scheduled / seconds, achievedRate: started / seconds };
  });
}

export function stamp(date: Date): string {
  return date.toISOString().replace(/[:.]/g, '-').replace(/Z$/, 'Z');
}

/** Writes result.json and report.html into <outRoot>/<timestamp>[-shard-i-of-n]/ and returns the folder. */
export async function writeResult(result: RunResult, outRoot: string, html: string, suffix = ''): Promise<string> {
  const dir = join(outRoot, `${stamp(new Date(result.startedAt))}${suffix}`);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'result.json'), `${JSON.stringify(result)}\n`);
  await writeFile(join(dir, 'report.html'), html);
  return dir;
}
