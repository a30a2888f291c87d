// The second target-tracking policy end to end: a group whose policy names requestsPerTarget
// scales out on the gateway's requests to it even though its workers' CPU stays far below the
// CPU target (as an ASG's ALBRequestCountPerTarget policy does), and back in once the requests
// stop; a group without requestsPerTarget under the same requests does not move.
import t from 'tap';
import { FAST_TUNING, Load, settledAt, startFleet, waitFor, workerService } from './fleet-harness.js';

// 120 requests a minute per worker is 2 per second: the load below asks for far more than max.
const byRequests = { min: 1, max: 3, desired: 1, cpuTarget: 95, requestsPerTarget: 120, warmupSeconds: 1, cooldownSeconds: 3, evaluationSeconds: 2 };
const cpuOnly = { min: 1, max: 3, desired: 1, cpuTarget: 95, warmupSeconds: 1, cooldownSeconds: 3, evaluationSeconds: 2 };

t.test('requests per target scale a cool group out and back in', async (t) => {
  const fleet = await startFleet(t);
  const result = await fleet.apply({
    gateway: { port: 0 },
    tuning: FAST_TUNING,
    services: { catalog: workerService(byRequests), users: workerService(cpuOnly) },
  });
  const url = result.gatewayUrl;
  await waitFor('both groups in service at min', async () => {
    const s = await fleet.state();
    return settledAt(s, 'catalog', 1) && settledAt(s, 'users', 1);
  });

  // Slow, cheap requests, two at a time to each group: ~20 requests/s, almost no CPU.
  const load = new Load(url, (i) => ({ method: 'GET', path: i % 2 ? '/api/catalog/slow?ms=50' : '/api/users/slow?ms=50' }), 4).start();
  await waitFor('catalog at max on requests alone', async () => settledAt(await fleet.state(), 'catalog', 3), 50_000);
  await load.stop();
  t.same(load.failures(), [], 'no request failed while scaling out');

  const outs = (await fleet.activity()).filter((a) => a.service === 'catalog' && /^target tracking/.test(a.cause) && a.to > a.from);
  t.ok(outs.length > 0, 'catalog scaled out');
  t.match(outs[0]?.cause, /target tracking: \d+ requests\/min against 120 per worker \(average CPU [\d.]+% of \d worker\(s\) over 2 s against target 95%\)/, 'the cause names the request policy');
  t.equal((await fleet.state()).services.users?.desired, 1, 'the same requests do not move a group tracked on CPU alone');

  await waitFor('catalog back at min once the requests stop', async () => settledAt(await fleet.state(), 'catalog', 1), 50_000);
  const ins = (await fleet.activity()).filter((a) => a.service === 'catalog' && /^target tracking/.test(a.cause) && a.to < a.from);
  t.same(ins.map((a) => [a.from, a.to]), [[3, 2], [2, 1]], 'scaled in one worker at a time');
});
