// The preflight as play tasks: one task per check family (certificates, architecture, scaling,
// database connections, capacity, and the online ones on AWS), run together so one run lists every
// finding. A task with an error-level finding fails (exit 2; a deploy stops before any change);
// warnings are the run's warnings and do not fail it. `./playbooks/preflight.mjs` runs it alone,
// deploy runs it first unless --skip-preflight.
import { settingsOf, SHOP_SERVICES, type Environment } from '../../../environment/index.js';
import { errorMessage, InterruptedError, UsageError } from '../errors.js';
import { findingLines, offlineChecks, reporter, type CheckReport, type PeakDemand } from '../preflight/index.js';
import { NotPermittedError } from '../preflight/online.js';
import { failed, ok, PlayStopped, skipped, type Play, type TaskSpec } from '../runner.js';
import type { TargetRun } from '../targets.js';

/** One online check: read-only AWS calls, then its report. */
export interface OnlineCheck {
  check: string;
  run(): Promise<CheckReport>;
}

/** The online checks of the aws target, after its credentials check (which says the account). */
export interface OnlineChecks {
  credentials(): Promise<string>;
  checks: OnlineCheck[];
}

export interface PreflightConfig {
  environment: Environment;
  /** --profile: a load profile whose peak the fleet is compared with. */
  profile?: string | undefined;
  now?: Date;
  /** The online checks, or why they do not run (shown as a skipped task); none in a deploy's offline part. */
  online?: OnlineChecks | { notRun: string } | undefined;
}

/** Runs tasks together; whether one failed (the caller decides when to stop). */
async function together(play: Play, tasks: TaskSpec[]): Promise<boolean> {
  try {
    await play.parallel(tasks);
    return true;
  } catch (err) {
    if (err instanceof PlayStopped) return false;
    throw err;
  }
}

/** Every check, offline and online, so one run lists every finding; stops the play after them when one failed. */
export async function runPreflight(play: Play, cfg: PreflightConfig): Promise<void> {
  const inv = cfg.environment;
  let peak: PeakDemand | undefined;
  if (cfg.profile) {
    const file = cfg.profile;
    await play.task({
      name: 'preflight profile',
      tags: ['always'],
      run: async () => {
        peak = await profileDemand(file, inv);
        return ok(`${peak.profile}: peak ${peak.journeysPerSecond} journeys/s in ${peak.phase}`);
      },
    });
  }
  const offline = offlineChecks(inv, { now: cfg.now ?? new Date(), peak }).map((r) => reportTask(play, r.check, () => Promise.resolve(r)));
  const online = cfg.online;
  if (!online || 'notRun' in online) {
    const notRun: TaskSpec[] = online ? [{ name: 'preflight online', tags: ['always'], run: () => Promise.resolve(skipped(online.notRun)) }] : [];
    const passed = await together(play, [...offline, ...notRun]);
    if (!passed) throw new PlayStopped();
    return;
  }
  let signedIn = false;
  const credentials: TaskSpec = {
    name: 'aws credentials',
    tags: ['always'],
    run: async () => {
      const account = await online.credentials();
      signedIn = true;
      return ok(account);
    },
  };
  let passed = await together(play, [...offline, credentials]);
  if (signedIn) passed = (await together(play, onlineTasks(play, online.checks))) && passed;
  if (!passed) throw new PlayStopped();
}

/** The online checks alone (a deploy runs them after its own credentials check). */
export async function runOnlinePreflight(play: Play, checks: OnlineCheck[]): Promise<void> {
  await play.parallel(onlineTasks(play, checks));
}

/**
 * A check that cannot run — a read the caller may not make, a service the region or endpoint does
 * not offer, retries used up — is reported as not checked (a warning with the reason), never as
 * passed, and does not fail the run: the preflight predicts failures, it must not be one.
 */
const onlineTasks = (play: Play, checks: OnlineCheck[]): TaskSpec[] =>
  checks.map((c) =>
    reportTask(play, c.check, () =>
      c.run().catch((err: unknown) => {
        if (err instanceof InterruptedError || play.interrupted) throw err;
        const r = reporter(c.check);
        if (err instanceof NotPermittedError) {
          r.warning(err.action, 'not permitted to the caller, so not checked', `allow ${err.action} (read-only) for the preflight to check ${c.check}`);
          r.summary(`not checked (${err.action} not permitted)`);
        } else {
          const reason = errorMessage(err).split('\n')[0]!;
          r.warning(c.check, `could not be checked: ${reason}`, `run ./playbooks/preflight.mjs again; if it persists, check ${c.check} by hand before deploying`);
          r.summary('not checked');
        }
        return r.report;
      }),
    ),
  );

function reportTask(play: Play, check: string, produce: () => Promise<CheckReport>): TaskSpec {
  return {
    name: `preflight ${check}`,
    tags: ['always'],
    run: async () => {
      const r = await produce();
      for (const w of r.findings.filter((f) => f.level === 'warning')) play.warn(`${w.check}: ${w.subject}: ${w.detail} — fix: ${w.fix}`);
      const errors = r.findings.filter((f) => f.level === 'error');
      if (errors.length) {
        const lines = [`${errors.length} error${errors.length === 1 ? '' : 's'}`, ...errors.flatMap(findingLines), ...r.summary.map((s) => `checked: ${s}`)];
        return failed(lines.join('\n'));
      }
      return ok(r.summary.join('\n'), { errors: '0', warnings: String(r.findings.length) });
    },
  };
}

/** What a load profile sends at its peak to each service (by the inventory's path prefixes). */
async function profileDemand(file: string, inv: Environment): Promise<PeakDemand> {
  // The loadtest's public profile API (test/architecture.test.ts allows exactly these two modules).
  const { loadProfile, ProfileError } = await import('../../../loadtest/lib/profile/load.js');
  const { profilePeak } = await import('../../../loadtest/lib/profile/peak.js');
  let profile;
  try {
    profile = loadProfile(file);
  } catch (err) {
    if (err instanceof ProfileError) throw new UsageError(`--profile ${file}: ${err.message}`);
    throw err;
  }
  const services = SHOP_SERVICES.map((d) => ({ name: d.name, prefix: settingsOf(inv, d.name).pathPrefix }));
  const peak = profilePeak(profile, services.map((s) => s.prefix));
  return {
    profile: peak.profile,
    phase: peak.phase,
    journeysPerSecond: peak.journeysPerSecond,
    requestsPerMinute: Object.fromEntries(services.map((s) => [s.name, peak.requestsPerMinute[s.prefix] ?? 0])),
  };
}

/** `./playbooks/preflight.mjs`: every target's offline checks; the aws target's online ones unless --offline. */
export async function preflightPlay(run: TargetRun): Promise<void> {
  const o = run.play.options;
  const inv = run.environment;
  let online: PreflightConfig['online'];
  if (inv.target !== 'aws') online = { notRun: `the ${inv.target} target has no AWS account to check` };
  else if (o.offline) online = { notRun: '--offline: quotas, offerings, live certificates, names, permissions and the duration estimate were not checked' };
  else online = (await import('./aws-preflight.js')).awsOnlineChecks(run);
  await runPreflight(run.play, { environment: inv, profile: o.profile, online, now: run.now });
}

/** What a deploy does first: the offline preflight, or — with --skip-preflight — a notice nobody can miss. */
export async function offlinePreflightFirst(run: TargetRun): Promise<boolean> {
  if (run.play.options.skipPreflight) {
    run.play.notice('PREFLIGHT SKIPPED (--skip-preflight): certificates, architectures, scaling, the database connection budget, quotas, names and permissions were not checked');
    return false;
  }
  // A rehearsal's --profile: the capacity check measures the fleet against its peak.
  await runPreflight(run.play, { environment: run.environment, now: run.now, profile: run.play.options.profile });
  return true;
}
