// Target tracking end to end: CPU load on one service grows its group from min to max in one
// proportional step, and when the load stops it shrinks back to min one worker per cool-down,
// while a light load keeps running across every scale-in without a single failed request.
import t from 'tap';
import { FAST_TUNING, Load, settledAt, startFleet, waitFor, workerService } from './fleet-harness.js';

const policy = { min: 1, max: 3, desired: 1, cpuTarget: 5, warmupSeconds: 1, cooldownSeconds: 3, evaluationSeconds: 2 };

t.test('scales out to max under CPU load and back to min after the cool-down', async (t) => {
  const fleet = await startFleet(t);
  const result = await fleet.apply({ gateway: { port: 0 }, tuning: FAST_TUNING, services: { catalog: workerService(policy), users: workerService({ min: 1, max: 2, desired: 1 }) } });
  t.same(result.services, { catalog: 'created', users: 'created' });
  const url = result.gatewayUrl;
  await waitFor('catalog in service at min', async () => settledAt(await fleet.state(), 'catalog', 1));

  // Requests that each burn 40 ms of CPU, four at a time: the single worker is saturated.
  const loadStart = Date.now();
  const burn = new Load(url, () => ({ method: 'GET', path: '/api/catalog/burn?ms=40' }), 4).start();
  await waitFor('catalog at max (3 workers in service)', async () => settledAt(await fleet.state(), 'catalog', 3), 50_000);
  const burnOutcomes = await burn.stop();
  t.equal(burn.failures().length, 0, 'no request failed while scaling out');
  const answeredBy = new Set(burnOutcomes.filter((o) => o.endedAt > Date.now() - 1000).map((o) => o.pid));
  t.ok(answeredBy.size >= 1, 'the load is served');

  const outs = (await fleet.activity()).filter((a) => a.service === 'catalog' && /^target tracking/.test(a.cause) && a.to > a.from);
  t.equal(outs[0]?.from, 1, 'first scale-out starts at min');
  t.equal(outs[0]?.to, 3, 'proportional: one evaluation of a saturated worker asks for max at once');
  t.match(outs[0]?.cause, /average CPU [\d.]+% of 1 worker\(s\) over 2 s against target 5%/);
  t.comment(`desired capacity set to max ${((Date.parse(outs[0]!.time) - loadStart) / 1000).toFixed(1)} s after the load started (warm-up ${policy.warmupSeconds} s + evaluation ${policy.evaluationSeconds} s)`);
  t.equal((await fleet.state()).services.users?.size, 1, 'the idle service did not scale');

  // Light, slow requests keep every worker busy with something in flight while it is drained.
  const light = new Load(url, (i) => (i % 2 ? { method: 'GET', path: '/api/catalog/slow?ms=150' } : { method: 'POST', path: '/api/catalog/slow?ms=150', body: '{}' }), 3).start();
  await waitFor('catalog back at min', async () => settledAt(await fleet.state(), 'catalog', 1), 50_000);
  const lightOutcomes = await light.stop();
  t.ok(lightOutcomes.length > 0, `light load ran (${lightOutcomes.length} requests)`);
  t.same(light.failures(), [], 'zero non-2xx across scale-in');

  const ins = (await fleet.activity()).filter((a) => a.service === 'catalog' && /^target tracking/.test(a.cause) && a.to < a.from);
  t.same(ins.map((a) => [a.from, a.to]), [[3, 2], [2, 1]], 'scaled in one worker at a time');
  const scaling = (await fleet.activity()).filter((a) => a.service === 'catalog' && /^target tracking/.test(a.cause));
  for (let i = 1; i < scaling.length; i++) {
    if (scaling[i]!.to < scaling[i]!.from) {
      t.ok(Date.parse(scaling[i]!.time) - Date.parse(scaling[i - 1]!.time) >= policy.cooldownSeconds * 1000, `scale-in ${i} waited for the cool-down`);
    }
  }
});
