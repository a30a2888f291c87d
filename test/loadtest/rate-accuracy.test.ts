// Acceptance 2: against a trivial endpoint, each phase's achieved rate (journeys whose request
// was actually written during the phase) is within ±5% of its schedule, through a constant
// phase, a ramp and a higher constant phase.
import t from 'tap';
import { runInProcess, startServer } from './helpers.js';

const { url } = await startServer(t, (_req, res) => {
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 2 });
  res.end('ok');
});

const profile = `
name: rate-accuracy
maxInFlight: 32
phases:
  - { name: steady-100, duration: 5s, rate: 100 }
  - { name: ramp-100-300, duration: 5s, rate: 100, rampTo: 300 }
  - { name: steady-300, duration: 5s, rate: 300 }
journeys:
  - name: ping
    weight: 100
    steps:
      - request: GET /ping
thresholds:
  - { metric: achievedRate, min: 95% }
`;

const result = await runInProcess(profile, url);

t.test('each phase starts its scheduled journeys within ±5%', (t) => {
  const expected = [500, 1000, 1500];
  result.phases.forEach((p, i) => {
    t.equal(p.scheduled, expected[i], `${p.name}: the schedule holds ${expected[i]} journeys`);
    const ratio = p.started / p.scheduled;
    t.ok(ratio >= 0.95 && ratio <= 1.05, `${p.name}: achieved ${p.achievedRate.toFixed(1)}/s of ${p.scheduledRate.toFixed(1)}/s (${(ratio * 100).toFixed(1)}%)`);
  });
  t.equal(result.verdicts.find((v) => v.kind === 'achievedRate')?.ok, true, 'the achievedRate threshold passes');
  t.end();
});

t.test('every scheduled journey was answered, none dropped', (t) => {
  const ping = result.recording.journeys.ping!;
  t.equal(ping.started, 3000);
  t.equal(ping.completed, 3000);
  t.equal(ping.dropped, 0);
  t.same(result.recording.endpoints['GET /ping']!.statuses, { 200: 3000 });
  t.equal(result.processes[0]!.autocannon?.completed, 3000, "autocannon's own count agrees");
  t.end();
});

t.test('the per-second series follows the ramp', (t) => {
  const secs = result.recording.seconds;
  t.same(secs.slice(0, 15).map((s) => s.scheduled), [100, 100, 100, 100, 100, 120, 160, 200, 240, 280, 300, 300, 300, 300, 300]);
  t.equal(secs.reduce((a, s) => a + s.started, 0), 3000);
  t.end();
});
