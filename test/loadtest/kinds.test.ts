// Threshold and feeder kinds are registered by name: the profile's `metric:` and `type:` choices,
// the loader and the verdict all come from the registries, and each kind compiles to itself.
import t from 'tap';
import { createFeeder, FEEDER_KINDS, FEEDER_TYPES, feederKind } from '../../loadtest/lib/feeders/index.js';
import { parseProfile, ProfileError } from '../../loadtest/lib/profile/load.js';
import { seeded } from '../../loadtest/lib/random.js';
import { kindOfMetric, METRICS, THRESHOLD_KINDS, thresholdKind } from '../../loadtest/lib/thresholds/index.js';

const profile = (thresholds: string, feeders = '') => `
name: kinds
maxInFlight: 1
${feeders}
phases:
  - { name: one, duration: 10s, rate: 1 }
journeys:
  - name: j
    weight: 100
    steps: [{ request: POST /api/orders, json: { items: [] }, sale: true }]
thresholds:
${thresholds}
`;

/** One threshold of each metric, as a profile would write it. */
const EXAMPLES: Record<string, string> = {
  p50: '{ metric: p50, max: 1s }',
  p95: '{ metric: p95, max: 1s }',
  p99: '{ metric: p99, max: 1s }',
  max: '{ metric: max, max: 1s }',
  errorRate: '{ metric: errorRate, max: 1% }',
  achievedRate: '{ metric: achievedRate, min: 90% }',
  oversell: '{ metric: oversell }',
  scaleOut: '{ metric: scaleOut, service: catalog, reaches: 2, within: 1m, phase: one }',
  scaleIn: '{ metric: scaleIn, service: catalog, within: 1m }',
  windowP50: '{ metric: windowP50, max: 1s, window: 10s }',
  windowP95: '{ metric: windowP95, max: 1s, window: 10s }',
  windowP99: '{ metric: windowP99, max: 1s, window: 10s }',
  windowMax: '{ metric: windowMax, max: 1s, window: 10s }',
  windowErrorRate: '{ metric: windowErrorRate, max: 5%, window: 10s }',
  windowErrors: '{ metric: windowErrors, max: 3, window: 10s }',
};

t.test('every registered metric compiles to the kind registered under its name', (t) => {
  t.same([...METRICS], Object.keys(EXAMPLES), 'the metrics a profile may name, in order');
  const compiled = parseProfile(profile(METRICS.map((m) => `  - ${EXAMPLES[m]}`).join('\n'), 'feeders:\n  product: { type: skus, count: 5, hot: { count: 1, share: 50% } }'), 'kinds.yaml');
  t.same(compiled.thresholds.map((th) => th.kind), ['latency', 'latency', 'latency', 'latency', 'errorRate', 'achievedRate', 'oversell', 'scaleOut', 'scaleIn', 'windowLatency', 'windowLatency', 'windowLatency', 'windowLatency', 'windowErrors', 'windowErrors']);
  for (const th of compiled.thresholds) {
    t.equal(thresholdKind(th.kind), THRESHOLD_KINDS[th.kind], `${th.path}: found by its kind`);
    t.equal(kindOfMetric(th.kind === 'latency' || th.kind === 'windowLatency' || th.kind === 'windowErrors' ? th.metric : th.kind), THRESHOLD_KINDS[th.kind], `${th.path}: found by its metric`);
  }
  t.equal(kindOfMetric('p999'), undefined);
  t.end();
});

t.test('a metric no kind answers to is refused with the registered ones', (t) => {
  try {
    parseProfile(profile('  - { metric: p999, max: 1s }'), 'kinds.yaml');
    t.fail('accepted');
  } catch (err) {
    t.ok(err instanceof ProfileError);
    t.match((err as ProfileError).problems[0], { path: 'thresholds[0].metric', fix: `metric: one of ${METRICS.join(', ')}` });
  }
  t.end();
});

t.test('each kind checks its own keys', (t) => {
  for (const [name, kind] of Object.entries(THRESHOLD_KINDS)) {
    const metric = kind.metrics[0]!;
    try {
      parseProfile(profile(`  - ${EXAMPLES[metric]!.replace(' }', ', bogus: 1 }')}`, 'feeders:\n  product: { type: skus, count: 5, hot: { count: 1, share: 50% } }'), 'kinds.yaml');
      t.fail(`${name}: accepted an unknown key`);
    } catch (err) {
      t.match((err as ProfileError).problems, [{ path: 'thresholds[0].bogus', problem: 'unknown key "bogus"' }], name);
    }
  }
  t.end();
});

t.test('every feeder type compiles to itself and deals rows with exactly its fields', (t) => {
  t.same(FEEDER_TYPES, ['users', 'skus', 'values']);
  const compiled = parseProfile(
    profile('  - { metric: p99, max: 1s }', 'feeders:\n  user: { type: users, count: 3 }\n  product: { type: skus, count: 5 }\n  word: { type: values, values: [a, b] }'),
    'kinds.yaml',
  );
  for (const [name, spec] of Object.entries(compiled.feeders)) {
    t.equal(feederKind(spec.type), FEEDER_KINDS[spec.type], `${name}: found by its type`);
    const feeder = createFeeder(name, spec, 1);
    t.same(Object.keys(feeder.row(0)).sort(), [...feederKind(spec.type).fields].sort(), `${name}: a row has the fields steps may use`);
    t.ok(feeder.pick(seeded(1, 0)), `${name}: picks a row`);
  }
  t.end();
});
