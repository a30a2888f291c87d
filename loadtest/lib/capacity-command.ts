// `./loadtest/run.mjs capacity --profile <p> --target <t>`: the capacity search as a command.
// Flags over the profile's `capacity:` section over the defaults make the plan (capacity.ts);
// each step is a run of the profile's journeys at one constant rate (runner.ts) written beside
// the search's capacity.json and report.html. Exit codes as run.mjs's: 0 the search found a rate
// that held (and at least --require), 99 none held (or less than --require), 1 a usage error.
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { capacityPlan, formatStep, searchCapacity, stepRates, type CapacityOutcome, type CapacitySettings } from './capacity.js';
import { renderCapacityReport } from './capacity-report.js';
import { loadProfile } from './profile/load.js';
import type { Profile } from './profile/types.js';
import { Progress } from './progress.js';
import { renderReport } from './report.js';
import { stamp } from './result.js';
import { runProfile } from './runner.js';
import { SessionStore } from './sessions.js';
import { resolveTarget, type Target } from './target.js';
import { formatMs, formatSeconds, parseDuration } from './units.js';
import { UsageError } from './usage-error.js';

export const CAPACITY_USAGE = `usage:
  ./loadtest/run.mjs capacity --profile <profile.yaml> --target local|<url>|<inventory.yaml> [options]

Raises the profile's journey rate step by step and stops at the first step whose thresholds fail.
options (each overrides the profile's capacity: section):
  --start <rate>       journeys/s of the first step (default: half the profile's peak rate)
  --factor <f>         each step is the last one times f, f > 1 (default 1.5)
  --increment <n>      each step is the last one plus n journeys/s (instead of --factor)
  --hold <duration>    how long each step runs, e.g. 60s (default 60s: time for the fleet to scale)
  --max-rate <rate>    the highest rate tried (default: no limit)
  --max-steps <n>      the most steps run (default 12)
  --require <rate>     exit 99 unless at least this rate held (for CI)
  --url, --load-balancer, --state-dir, --out, --run-id, --quiet   as for a run
exit codes: 0 a rate held (at least --require), 99 no rate held (or less than --require), 1 usage error`;

/** Thresholds that judge a whole sale day, not one constant rate, are left out of the steps. */
const WHOLE_RUN_KINDS = new Set(['scaleOut', 'scaleIn', 'oversell']);

export interface CapacityContext {
  root: string;
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream & { isTTY?: boolean };
}

function positive(flag: string, value: string | undefined, opts: { integer?: boolean; above?: number } = {}): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  const above = opts.above ?? 0;
  if (!Number.isFinite(n) || n <= above || (opts.integer && !Number.isInteger(n))) {
    throw new UsageError(`--${flag} ${value} is not ${opts.integer ? 'a whole number' : 'a number'} above ${above} (e.g. --${flag} ${opts.integer ? 10 : above + 1})\n${CAPACITY_USAGE}`);
  }
  return n;
}

export async function capacityCommand(argv: string[], ctx: CapacityContext): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      options: {
        profile: { type: 'string' },
        target: { type: 'string' },
        start: { type: 'string' },
        factor: { type: 'string' },
        increment: { type: 'string' },
        hold: { type: 'string' },
        'max-rate': { type: 'string' },
        'max-steps': { type: 'string' },
        require: { type: 'string' },
        url: { type: 'string' },
        'load-balancer': { type: 'string' },
        'state-dir': { type: 'string' },
        out: { type: 'string' },
        'run-id': { type: 'string' },
        quiet: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (e) {
    throw new UsageError(`${(e as Error).message}\n${CAPACITY_USAGE}`);
  }
  const v = parsed.values;
  if (v.help) {
    ctx.out.write(`${CAPACITY_USAGE}\n`);
    return 0;
  }
  if (!v.profile) throw new UsageError(`capacity needs --profile <profile.yaml>\n${CAPACITY_USAGE}`);
  if (!v.target) throw new UsageError(`capacity needs --target: local, a URL or an inventory file\n${CAPACITY_USAGE}`);
  if (v.factor !== undefined && v.increment !== undefined) throw new UsageError('give --factor or --increment, not both (--factor 1.5 multiplies each step, --increment 10 adds to it)');
  const flags: CapacitySettings = {};
  const start = positive('start', v.start);
  const factor = positive('factor', v.factor, { above: 1 });
  const increment = positive('increment', v.increment);
  const maxRate = positive('max-rate', v['max-rate']);
  const maxSteps = positive('max-steps', v['max-steps'], { integer: true });
  const required = positive('require', v.require);
  if (start !== undefined) flags.start = start;
  if (factor !== undefined) flags.factor = factor;
  if (increment !== undefined) flags.increment = increment;
  if (maxRate !== undefined) flags.maxRate = maxRate;
  if (maxSteps !== undefined) flags.maxSteps = maxSteps;
  if (v.hold !== undefined) {
    const ms = parseDuration(v.hold);
    if (ms === undefined || ms < 1000) throw new UsageError(`--hold ${v.hold} is not a duration of 1s or more (e.g. --hold 60s, --hold 2m)`);
    flags.holdMs = ms;
  }
  const profile = loadProfile(v.profile);
  const plan = capacityPlan(profile, flags);
  if (plan.maxRate < plan.start) throw new UsageError(`--max-rate ${plan.maxRate} is below the first step's rate ${plan.start}: raise it or lower --start`);
  const target = await resolveTarget(v.target, { stateDir: resolve(v['state-dir'] ?? join(ctx.root, '.saleday', 'local')), ...(v.url ? { url: v.url } : {}), ...(v['load-balancer'] ? { loadBalancer: v['load-balancer'] } : {}) });
  const progress = new Progress(ctx.err, v.quiet ?? false);
  const runId = v['run-id'] ?? Date.now().toString(36);
  const dir = join(resolve(v.out ?? join(ctx.root, 'build', 'loadtest')), `${stamp(new Date())}-capacity`);
  await mkdir(dir, { recursive: true });

  const rates = stepRates(plan);
  const left = profile.thresholds.filter((t) => WHOLE_RUN_KINDS.has(t.kind) || (t.kind === 'achievedRate' && t.phase));
  progress.line(
    `capacity search: ${profile.name} → ${target.url}; up to ${rates.length} steps of ${formatMs(plan.holdMs)} (${rates.join(', ')} journeys/s${plan.maxRate === Infinity && rates.length === plan.maxSteps ? ', …' : ''}), ` +
      `stopping at the first step whose thresholds fail` + (left.length ? `; left out of the steps (they judge a whole sale day): ${left.map((t) => t.label).join('; ')}` : ''),
  );
  // Accounts stay signed in from step to step, as they would while the traffic grows.
  const sessions = profile.sessions ? new SessionStore({ ...profile.sessions, storms: [] }, profile.seed, 0) : undefined;
  const startedAt = new Date();
  const outcome = await searchCapacity(
    plan,
    async (rate, i) => {
      progress.line(`step ${i + 1}/${rates.length}: ${rate} journeys/s for ${formatSeconds(plan.holdMs / 1000)}`);
      const result = await runProfile({
        profile: stepProfile(profile, rate, plan.holdMs, i),
        target,
        runId: `${runId}-s${i + 1}`,
        progress,
        skipSetup: i > 0,
        // the first step starts with every account signed in: its verdict is about its rate
        ...(sessions ? { sessions, signIn: i === 0 } : {}),
      });
      const stepDir = join(dir, `step-${String(i + 1).padStart(2, '0')}-${rate}`);
      await mkdir(stepDir, { recursive: true });
      await writeFile(join(stepDir, 'result.json'), `${JSON.stringify(result)}\n`);
      await writeFile(join(stepDir, 'report.html'), renderReport(result));
      return { result, dir: stepDir };
    },
    (step) => progress.line(formatStep(step, rates.length)),
  );
  const report: CapacityReport = { version: 1, kind: 'capacity', runId, profile: { name: profile.name, file: profile.file }, target: { kind: target.kind, url: target.url, label: target.label }, startedAt: startedAt.toISOString(), endedAt: new Date().toISOString(), required, ...outcome, plan: { ...outcome.plan, maxRate: Number.isFinite(plan.maxRate) ? plan.maxRate : null } };
  await writeFile(join(dir, 'capacity.json'), `${JSON.stringify(report, null, 1)}\n`);
  await writeFile(join(dir, 'report.html'), renderCapacityReport(report));
  printOutcome(report, target, dir, ctx.out);
  const held = outcome.highestHeld;
  return held === undefined || (required !== undefined && held < required) ? 99 : 0;
}

export type CapacityReport = Omit<CapacityOutcome, 'plan'> & {
  version: 1;
  kind: 'capacity';
  runId: string;
  profile: { name: string; file: string };
  target: { kind: string; url: string; label: string };
  startedAt: string;
  endedAt: string;
  required: number | undefined;
  plan: Omit<CapacityOutcome['plan'], 'maxRate'> & { maxRate: number | null };
};

/** The profile at one constant rate for the hold time; whole-day thresholds and storms left out. */
export function stepProfile(profile: Profile, rate: number, holdMs: number, index: number): Profile {
  return {
    ...profile,
    phases: [{ name: `step-${index + 1}`, startMs: 0, durationMs: holdMs, rate, rampTo: rate }],
    durationMs: holdMs,
    thresholds: profile.thresholds.filter((t) => !WHOLE_RUN_KINDS.has(t.kind) && !(t.kind === 'achievedRate' && t.phase)),
    oversell: undefined,
    sessions: profile.sessions ? { ...profile.sessions, storms: [] } : undefined,
  };
}

function printOutcome(r: CapacityReport, target: Target, dir: string, out: NodeJS.WritableStream): void {
  const last = r.steps.at(-1)!;
  out.write(`\ncapacity of ${target.label}${target.label === target.url ? '' : ` (${target.url})`} for ${r.profile.name}:\n`);
  if (r.highestHeld === undefined) out.write(`  no rate held: the first step (${last.rate} journeys/s) already failed; try a lower --start\n`);
  else out.write(`  highest rate that held: ${r.highestHeld} journeys/s (${r.steps.filter((s) => s.passed).length} of ${r.steps.length} steps held; stopped: ${r.stoppedBecause})\n`);
  if (r.brokeAt) {
    out.write(`  broke at ${r.brokeAt.rate} journeys/s:\n`);
    for (const f of r.brokeAt.failed) out.write(`    ✗ ${f.label}: ${f.measured}${f.endpoint ? `  (endpoint ${f.endpoint})` : ''}  [${f.path}]\n`);
    out.write(r.brokeAt.bottleneck ? `  limit: ${r.brokeAt.bottleneck.service} — ${r.brokeAt.bottleneck.reason}\n` : '  limit: not known (no probe figures and no failing endpoint of a service)\n');
  }
  if (r.required !== undefined) out.write(`  required: ${r.required} journeys/s — ${r.highestHeld !== undefined && r.highestHeld >= r.required ? 'met' : 'NOT met'}\n`);
  out.write(`result: ${join(dir, 'capacity.json')}\nreport: ${join(dir, 'report.html')}\n`);
}
