// Thresholds: abortOnFail with its grace period stops a run against a failing shop, and the
// scaling thresholds judge the fleet's samples (scale out in time, back to the minimum after).
import t from 'tap';
import { parseProfile } from '../../loadtest/lib/profile/load.js';
import type { FleetSample } from '../../loadtest/lib/probes/probe.js';
import type { RunResult } from '../../loadtest/lib/result.js';
import { evaluate } from '../../loadtest/lib/thresholds/index.js';
import { json, runInProcess, startServer } from './helpers.js';

t.test('abortOnFail stops the run once the grace period is over', async (t) => {
  const { url } = await startServer(t, (_req, res) => json(res, 500, { code: 'INTERNAL', message: 'down' }));
  const result = await runInProcess(
    `
name: abort
maxInFlight: 8
phases:
  - { name: long, duration: 20s, rate: 20 }
journeys:
  - name: ping
    weight: 100
    steps:
      - request: GET /ping
thresholds:
  - { metric: errorRate, max: 1%, abortOnFail: true, grace: 2s }
`,
    url,
  );
  t.ok(result.aborted, 'the run was aborted');
  t.ok(result.aborted!.atS >= 2, `not before the 2 s grace period (at ${result.aborted!.atS.toFixed(1)} s)`);
  t.match(result.aborted!.reason, /error rate ≤ 1\.00% failed: 100\.00%/);
  const started = result.recording.journeys.ping!.started;
  t.ok(started < 200, `${started} of the 400 scheduled journeys started before the run stopped`);
  t.equal(result.passed, false);
  t.match(result.verdicts.map((v) => v.label), ['error rate ≤ 1.00%', 'the run ran to the end']);
});

/** A result with nothing but a profile and fleet samples, for the scaling verdicts. */
function withFleet(thresholds: string, samples: FleetSample[], probe: string | null = 'test fleet'): RunResult {
  const profile = parseProfile(
    `
name: scaling
maxInFlight: 1
phases:
  - { name: calm, duration: 60s, rate: 1 }
  - { name: spike, duration: 60s, rate: 10 }
journeys:
  - name: j
    weight: 100
    steps: [{ request: GET / }]
thresholds:
${thresholds}
`,
    'scaling.yaml',
  );
  return {
    version: 1,
    runId: 'x',
    profile: { ...profile, journeys: [], thresholds: profile.thresholds },
    target: { kind: 'local', url: 'http://127.0.0.1', label: 'local' },
    processes: [{ shard: '1/1', host: 'h', pid: 1, startedAt: '', endedAt: '', autocannon: undefined }],
    startedAt: '2025-01-01T00:00:00.000Z',
    endedAt: '2025-01-01T00:05:00.000Z',
    recording: { seconds: [], endpoints: {}, journeys: {}, latency: '', serviceTime: '', sales: {}, phases: [] },
    phases: [],
    fleet: { probe, samples, activities: [], metrics: undefined, errors: [] },
    oversell: undefined,
    setup: [],
    aborted: undefined,
    verdicts: [],
    passed: false,
  };
}

const fleet = (points: Array<[number, number]>): FleetSample[] => points.map(([t, n]) => ({ t, services: { catalog: { inService: n, desired: n, min: 1, max: 4 } } }));

t.test('scale out: reaching N within T of the phase start', (t) => {
  const rule = '  - { metric: scaleOut, service: catalog, reaches: 3, within: 45s, phase: spike }';
  const [ok] = evaluate(withFleet(rule, fleet([[0, 1], [60, 1], [80, 2], [95, 3], [130, 3]])));
  t.match(ok, { ok: true, measured: 'catalog had 3 in service 35 s after spike began' });
  const [late] = evaluate(withFleet(rule, fleet([[0, 1], [60, 1], [100, 2], [110, 3]])));
  t.match(late, { ok: false, measured: 'catalog reached 3 only 50 s after spike began' });
  const [never] = evaluate(withFleet(rule, fleet([[0, 1], [70, 2], [119, 2]])));
  t.match(never, { ok: false, measured: 'catalog peaked at 2 in service within 45.0 s of spike (needed 3)' });
  const [unknown] = evaluate(withFleet(rule.replace('catalog', 'search'), fleet([[0, 1]])));
  t.match(unknown, { ok: false, measured: /saw no service named search \(it saw catalog\)/ });
  const [blind] = evaluate(withFleet(rule, [], null));
  t.match(blind, { ok: false, measured: /no scaling probe for this target/ });
  t.end();
});

t.test('scale in: back to the minimum within T after the last phase', (t) => {
  const rule = '  - { metric: scaleIn, service: catalog, within: 60s }';
  const [ok] = evaluate(withFleet(rule, fleet([[100, 3], [125, 3], [150, 1]])));
  t.match(ok, { ok: true, measured: 'catalog back to 1 (its minimum) 30 s after the last phase' });
  const [stuck] = evaluate(withFleet(rule, fleet([[100, 3], [150, 3], [180, 2]])));
  t.match(stuck, { ok: false, measured: 'catalog still had 2 in service (minimum 1) 60 s after the last phase' });
  t.end();
});
