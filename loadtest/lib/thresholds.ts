// Thresholds: the verdict of a run. Each threshold of the profile is judged on the recorded
// histograms and counts (after the run, or on a merge of shards), and those marked abortOnFail
// are also judged every second during the run once their grace period is over.
import type { Histogram } from 'hdr-histogram-js';
import type { FleetSample } from './probes/probe.js';
import type { Scope, Threshold } from './profile.js';
import { decode, type Snapshot } from './recorder.js';
import type { RunResult, Verdict } from './result.js';
import { formatMs, formatPercent } from './units.js';

const PERCENTILE: Record<string, number> = { p50: 50, p95: 95, p99: 99, max: 100 };

function scopeName(scope: Scope): string {
  return scope.endpoint ? scope.endpoint : scope.journey ? `journey ${scope.journey}` : 'all requests';
}

function latencyOf(h: Histogram | undefined, metric: string): number | undefined {
  if (!h || h.totalCount === 0) return undefined;
  return (metric === 'max' ? h.maxValue : h.getValueAtPercentile(PERCENTILE[metric]!)) / 1000;
}

function judgeLatency(t: Extract<Threshold, { kind: 'latency' }>, h: Histogram | undefined): Verdict {
  const v = latencyOf(h, t.metric);
  if (v === undefined) return { path: t.path, label: t.label, kind: t.kind, ok: false, measured: `no responses recorded for ${scopeName(t.scope)}` };
  return { path: t.path, label: t.label, kind: t.kind, ok: v <= t.maxMs, measured: `${t.metric} ${formatMs(v)} over ${h!.totalCount} ${t.scope.journey ? 'journeys' : 'requests'}` };
}

function judgeErrors(t: Extract<Threshold, { kind: 'errorRate' }>, errors: number, total: number): Verdict {
  const rate = total ? errors / total : 0;
  const what = t.scope.journey ? 'journeys failed' : 'requests failed';
  return { path: t.path, label: t.label, kind: t.kind, ok: total > 0 && rate <= t.max, measured: total ? `${formatPercent(rate)} (${errors} of ${total} ${what})` : `nothing recorded for ${scopeName(t.scope)}` };
}

/** Judges the abortOnFail thresholds on what has been recorded so far; the first failure, if any. */
export function checkAbort(thresholds: Threshold[], live: Snapshot, elapsedMs: number): Verdict | undefined {
  for (const t of thresholds) {
    if ((t.kind !== 'latency' && t.kind !== 'errorRate') || !t.abortOnFail || elapsedMs < t.graceMs) continue;
    if (t.kind === 'latency') {
      const h = live.latency(t.scope);
      if (!h || h.totalCount === 0) continue;
      const v = judgeLatency(t, h);
      if (!v.ok) return v;
    } else {
      const rate = live.errorRate(t.scope);
      if (rate > t.max) return { path: t.path, label: t.label, kind: t.kind, ok: false, measured: formatPercent(rate) };
    }
  }
  return undefined;
}

export function evaluate(result: RunResult): Verdict[] {
  const rec = result.recording;
  const verdicts: Verdict[] = [];
  for (const t of result.profile.thresholds) {
    switch (t.kind) {
      case 'latency': {
        const encoded = t.scope.endpoint ? rec.endpoints[t.scope.endpoint]?.latency : t.scope.journey ? rec.journeys[t.scope.journey]?.duration : rec.latency;
        verdicts.push(judgeLatency(t, encoded ? decode(encoded) : undefined));
        break;
      }
      case 'errorRate': {
        if (t.scope.endpoint) {
          const e = rec.endpoints[t.scope.endpoint];
          verdicts.push(judgeErrors(t, e?.errors ?? 0, e?.requests ?? 0));
        } else if (t.scope.journey) {
          const j = rec.journeys[t.scope.journey];
          verdicts.push(judgeErrors(t, j?.failed ?? 0, (j?.completed ?? 0) + (j?.failed ?? 0)));
        } else {
          const all = Object.values(rec.endpoints);
          verdicts.push(judgeErrors(t, all.reduce((a, e) => a + e.errors, 0), all.reduce((a, e) => a + e.requests, 0)));
        }
        break;
      }
      case 'achievedRate': {
        const phases = result.phases.filter((p) => (t.phase ? p.name === t.phase : p.scheduled > 0));
        const worst = phases
          .map((p) => ({ p, ratio: p.scheduled ? p.started / p.scheduled : 1 }))
          .sort((a, b) => a.ratio - b.ratio);
        const failing = worst.filter((w) => w.ratio < t.min);
        const shown = (failing.length ? failing : worst.slice(0, 1)).map(({ p, ratio }) => `${p.name}: ${p.achievedRate.toFixed(1)}/s of ${p.scheduledRate.toFixed(1)}/s scheduled (${formatPercent(ratio)})`);
        verdicts.push({ path: t.path, label: t.label, kind: t.kind, ok: failing.length === 0, measured: shown.join('; ') || 'no phase had journeys scheduled' });
        break;
      }
      case 'oversell':
        verdicts.push(judgeOversell(t, result));
        break;
      case 'scaleOut':
        verdicts.push(judgeScaleOut(t, result));
        break;
      case 'scaleIn':
        verdicts.push(judgeScaleIn(t, result));
        break;
    }
  }
  if (result.aborted) {
    verdicts.push({ path: 'abortOnFail', label: 'the run ran to the end', kind: 'latency', ok: false, measured: `aborted at ${result.aborted.atS.toFixed(0)} s: ${result.aborted.reason}` });
  }
  for (const s of result.setup) {
    if (s.failed) verdicts.push({ path: 'setup', label: `setup ${s.journey} for each ${s.each}`, kind: 'errorRate', ok: false, measured: `${s.failed} of ${s.runs} failed` });
  }
  return verdicts;
}

function judgeOversell(t: Extract<Threshold, { kind: 'oversell' }>, result: RunResult): Verdict {
  const o = result.oversell;
  const base = { path: t.path, label: t.label, kind: t.kind };
  if (!o) return { ...base, ok: false, measured: 'the check did not run' };
  // One shard sees only its own sales while the others sell too: the merge judges.
  const shards = Number(result.processes[0]?.shard.split('/')[1] ?? 1);
  if (shards > result.processes.length) {
    const sold = Object.values(result.recording.sales).reduce((a, n) => a + n, 0);
    return { ...base, ok: true, measured: `judged when the ${shards} shards are merged (this shard sold ${sold} units)` };
  }
  if (o.error) return { ...base, ok: false, measured: `stock could not be read: ${o.error}` };
  const bad = o.skus.filter((s) => s.before === null || s.after === null || s.after < 0 || s.before - s.after !== s.sold);
  const sold = o.skus.reduce((a, s) => a + s.sold, 0);
  const show = (s: (typeof o.skus)[number]) => `${s.sku}: sold ${s.sold}, stock ${s.before ?? '?'} → ${s.after ?? '?'}`;
  if (bad.length) return { ...base, ok: false, measured: bad.slice(0, 5).map(show).join('; ') };
  return { ...base, ok: true, measured: `${sold} units sold over ${o.skus.length} skus, each matching its stock decrease (${o.skus.slice(0, 3).map(show).join('; ')}${o.skus.length > 3 ? '; …' : ''})` };
}

function sizes(samples: FleetSample[], service: string): Array<{ t: number; n: number; min: number }> {
  return samples.filter((s) => s.services[service]).map((s) => ({ t: s.t, n: s.services[service]!.inService, min: s.services[service]!.min }));
}

function judgeScaleOut(t: Extract<Threshold, { kind: 'scaleOut' }>, result: RunResult): Verdict {
  const base = { path: t.path, label: t.label, kind: t.kind };
  const series = sizes(result.fleet.samples, t.service);
  if (!result.fleet.probe) return { ...base, ok: false, measured: 'no scaling probe for this target (use --target local or an aws inventory)' };
  if (!series.length) return { ...base, ok: false, measured: `the probe saw no service named ${t.service} (it saw ${Object.keys(result.fleet.samples.at(-1)?.services ?? {}).join(', ') || 'none'})` };
  const phase = result.profile.phases.find((p) => p.name === t.phase)!;
  const start = phase.startMs / 1000;
  const deadline = start + t.withinMs / 1000;
  const reached = series.find((s) => s.t >= start - 1 && s.n >= t.reaches);
  if (reached && reached.t <= deadline) return { ...base, ok: true, measured: `${t.service} had ${reached.n} in service ${Math.max(0, reached.t - start).toFixed(0)} s after ${t.phase} began` };
  const peak = series.filter((s) => s.t >= start && s.t <= deadline).reduce((a, s) => Math.max(a, s.n), 0);
  return { ...base, ok: false, measured: reached ? `${t.service} reached ${t.reaches} only ${(reached.t - start).toFixed(0)} s after ${t.phase} began` : `${t.service} peaked at ${peak} in service within ${formatMs(t.withinMs)} of ${t.phase} (needed ${t.reaches})` };
}

function judgeScaleIn(t: Extract<Threshold, { kind: 'scaleIn' }>, result: RunResult): Verdict {
  const base = { path: t.path, label: t.label, kind: t.kind };
  if (!result.fleet.probe) return { ...base, ok: false, measured: 'no scaling probe for this target (use --target local or an aws inventory)' };
  const series = sizes(result.fleet.samples, t.service);
  if (!series.length) return { ...base, ok: false, measured: `the probe saw no service named ${t.service}` };
  const end = result.profile.durationMs / 1000;
  const back = series.find((s) => s.t >= end && s.n <= s.min);
  if (back && back.t - end <= t.withinMs / 1000) return { ...base, ok: true, measured: `${t.service} back to ${back.n} (its minimum) ${(back.t - end).toFixed(0)} s after the last phase` };
  const last = series.at(-1)!;
  return { ...base, ok: false, measured: `${t.service} still had ${last.n} in service (minimum ${last.min}) ${(last.t - end).toFixed(0)} s after the last phase` };
}
