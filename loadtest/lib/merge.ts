// Merging the results of shards (`--shard i/n` processes) into the result of one run. Counts add;
// HDR histograms add exactly (decode, add, encode), per endpoint, per journey and per second, so
// percentiles of the merge are those of one process that recorded every request. The fleet is
// the same fleet for every shard: the first shard's samples are kept.
import { decode, encode, newHistogram, type EndpointTotals, type JourneyTotals, type Recording, type SecondRecord } from './recorder.js';
import type { OversellResult, RunResult } from './result.js';
import { evaluate } from './thresholds/index.js';
import { UsageError } from './usage-error.js';

function addEncoded(list: Array<string | undefined>): string {
  const present = list.filter((s): s is string => !!s);
  if (!present.length) return '';
  const h = newHistogram();
  for (const s of present) h.add(decode(s));
  return encode(h);
}

function mergeRecordings(recs: Recording[]): Recording {
  const seconds: SecondRecord[] = [];
  const length = Math.max(...recs.map((r) => r.seconds.length));
  for (let t = 0; t < length; t++) {
    const parts = recs.map((r) => r.seconds[t]).filter((s): s is SecondRecord => !!s);
    const names = [...new Set(parts.flatMap((p) => Object.keys(p.endpoints)))];
    seconds.push({
      t,
      scheduled: parts.reduce((a, p) => a + p.scheduled, 0),
      started: parts.reduce((a, p) => a + p.started, 0),
      dropped: parts.reduce((a, p) => a + p.dropped, 0),
      requests: parts.reduce((a, p) => a + p.requests, 0),
      errors: parts.reduce((a, p) => a + p.errors, 0),
      latency: addEncoded(parts.map((p) => p.latency)),
      endpoints: Object.fromEntries(
        names.map((n) => {
          const es = parts.map((p) => p.endpoints[n]).filter((e) => !!e);
          return [n, { requests: es.reduce((a, e) => a + e.requests, 0), errors: es.reduce((a, e) => a + e.errors, 0), latency: addEncoded(es.map((e) => e.latency)) }];
        }),
      ),
    });
  }
  const endpoints: Record<string, EndpointTotals> = {};
  for (const name of new Set(recs.flatMap((r) => Object.keys(r.endpoints)))) {
    const es = recs.map((r) => r.endpoints[name]).filter((e): e is EndpointTotals => !!e);
    const statuses: Record<string, number> = {};
    for (const e of es) for (const [k, v] of Object.entries(e.statuses)) statuses[k] = (statuses[k] ?? 0) + v;
    endpoints[name] = {
      requests: es.reduce((a, e) => a + e.requests, 0),
      errors: es.reduce((a, e) => a + e.errors, 0),
      statuses,
      latency: addEncoded(es.map((e) => e.latency)),
      serviceTime: addEncoded(es.map((e) => e.serviceTime)),
    };
  }
  const journeys: Record<string, JourneyTotals> = {};
  for (const name of new Set(recs.flatMap((r) => Object.keys(r.journeys)))) {
    const js = recs.map((r) => r.journeys[name]).filter((j): j is JourneyTotals => !!j);
    journeys[name] = {
      started: js.reduce((a, j) => a + j.started, 0),
      completed: js.reduce((a, j) => a + j.completed, 0),
      failed: js.reduce((a, j) => a + j.failed, 0),
      dropped: js.reduce((a, j) => a + j.dropped, 0),
      duration: addEncoded(js.map((j) => j.duration)),
    };
  }
  const sales: Record<string, number> = {};
  const unansweredSales: Record<string, number> = {};
  for (const r of recs) for (const [sku, n] of Object.entries(r.sales)) sales[sku] = (sales[sku] ?? 0) + n;
  for (const r of recs) for (const [sku, n] of Object.entries(r.unansweredSales ?? {})) unansweredSales[sku] = (unansweredSales[sku] ?? 0) + n;
  const phaseCount = Math.max(...recs.map((r) => r.phases.length));
  const phases = Array.from({ length: phaseCount }, (_, i) => ({
    started: recs.reduce((a, r) => a + (r.phases[i]?.started ?? 0), 0),
    dropped: recs.reduce((a, r) => a + (r.phases[i]?.dropped ?? 0), 0),
  }));
  return { seconds, endpoints, journeys, latency: addEncoded(recs.map((r) => r.latency)), serviceTime: addEncoded(recs.map((r) => r.serviceTime)), sales, unansweredSales, phases };
}

function mergeOversell(results: RunResult[]): OversellResult | undefined {
  const all = results.map((r) => r.oversell).filter((o): o is OversellResult => !!o);
  if (!all.length) return undefined;
  // Stock before the earliest shard began selling and after the last one finished.
  const first = [...all].sort((a, b) => a.readBefore.localeCompare(b.readBefore))[0]!;
  const last = [...all].sort((a, b) => b.readAfter.localeCompare(a.readAfter))[0]!;
  const skus = first.skus.map((s) => ({
    sku: s.sku,
    before: s.before,
    after: last.skus.find((x) => x.sku === s.sku)?.after ?? null,
    sold: all.reduce((a, o) => a + (o.skus.find((x) => x.sku === s.sku)?.sold ?? 0), 0),
    unanswered: all.reduce((a, o) => a + (o.skus.find((x) => x.sku === s.sku)?.unanswered ?? 0), 0),
  }));
  return { skus, error: all.find((o) => o.error)?.error, readBefore: first.readBefore, readAfter: last.readAfter };
}

export interface MergeOptions {
  /** merge the shards there are even when some of the run's are missing (a generator that failed: its verdict says so) */
  partial?: boolean;
}

export function mergeResults(results: RunResult[], opts: MergeOptions = {}): RunResult {
  if (results.length === 0) throw new UsageError('merge needs the result.json of every shard');
  const [head] = results as [RunResult, ...RunResult[]];
  for (const r of results) {
    if (r.version !== 1) throw new UsageError(`a result of version ${String(r.version)} cannot be merged by this harness`);
    if (r.profile.name !== head.profile.name || JSON.stringify(r.profile.phases) !== JSON.stringify(head.profile.phases)) {
      throw new UsageError(`results of different profiles (${head.profile.name} and ${r.profile.name}) cannot be merged`);
    }
  }
  const shards = results.flatMap((r) => r.processes.map((p) => p.shard));
  const count = Number(shards[0]?.split('/')[1] ?? 1);
  const missing = Array.from({ length: count }, (_, i) => `${i + 1}/${count}`).filter((s) => !shards.includes(s));
  const twice = shards.filter((s, i) => shards.indexOf(s) !== i);
  if (twice.length) throw new UsageError(`shard ${twice[0]} is given twice`);
  if ((missing.length && !opts.partial) || shards.some((s) => Number(s.split('/')[1]) !== count)) {
    throw new UsageError(`the shards do not make one run: have ${shards.join(', ')}, missing ${missing.join(', ') || 'none'}`);
  }
  const recording = mergeRecordings(results.map((r) => r.recording));
  const withFleet = results.find((r) => r.fleet.samples.length) ?? head;
  const merged: RunResult = {
    ...head,
    processes: results.flatMap((r) => r.processes),
    startedAt: results.map((r) => r.startedAt).sort()[0]!,
    endedAt: results.map((r) => r.endedAt).sort().at(-1)!,
    recording,
    phases: head.phases.map((p, i) => {
      const scheduled = results.reduce((a, r) => a + (r.phases[i]?.scheduled ?? 0), 0);
      const started = recording.phases[i]?.started ?? 0;
      const seconds = p.durationMs / 1000;
      return { ...p, scheduled, started, dropped: recording.phases[i]?.dropped ?? 0, scheduledRate: scheduled / seconds, achievedRate: started / seconds };
    }),
    fleet: { ...withFleet.fleet, errors: [...new Set(results.flatMap((r) => r.fleet.errors))] },
    oversell: mergeOversell(results),
    setup: results.flatMap((r) => r.setup),
    aborted: results.find((r) => r.aborted)?.aborted,
    verdicts: [],
    passed: false,
  };
  merged.verdicts = evaluate(merged);
  merged.passed = merged.verdicts.every((v) => v.ok);
  return merged;
}
