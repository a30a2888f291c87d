// The scaling decision and the CPU window on their own: proportional scale-out clamped to max,
// one-step scale-in held by warm-up and cool-down, and the window average over warmed workers.
import t from 'tap';
import fc from 'fast-check';
import { decideScaling, type GroupView } from '../../localcloud/target-tracking.js';
import { CpuHistory } from '../../localcloud/cpu-metric.js';
import { parseFleetSpec } from '../../localcloud/fleet-spec.js';

const policy = { min: 1, max: 4, desired: 1, cpuTarget: 50, warmupSeconds: 60, cooldownSeconds: 300, evaluationSeconds: 60 };
const view = (v: Partial<GroupView>): GroupView => ({ desired: 1, contributing: 1, warming: 0, metric: 10, lastScalingAt: undefined, now: 1_000_000, ...v });

t.test('scale-out is proportional and clamped to max', (t) => {
  t.match(decideScaling(policy, view({ metric: 90 })), { action: 'out', to: 2 }, 'ceil(1 × 90 / 50) = 2');
  t.match(decideScaling(policy, view({ desired: 2, contributing: 2, metric: 80 })), { action: 'out', to: 4 }, 'ceil(2 × 80 / 50) = 4');
  t.match(decideScaling(policy, view({ metric: 100, desired: 1 })), { action: 'out', to: 2 });
  t.match(decideScaling({ ...policy, cpuTarget: 10 }, view({ metric: 95 })), { action: 'out', to: 4 }, 'ceil(9.5) clamped to max 4');
  t.match(decideScaling(policy, view({ metric: 50 })), { action: 'none' }, 'at target: nothing');
  t.end();
});

t.test('workers still warming count toward capacity, not toward the metric', (t) => {
  // Scaled 1 -> 3 a moment ago; only the first worker reports, still hot.
  t.match(decideScaling(policy, view({ desired: 3, contributing: 1, warming: 2, metric: 100 })), { action: 'none' }, 'ceil(1 × 100 / 50) = 2 < 3: no second scale-out');
  t.match(decideScaling(policy, view({ desired: 3, contributing: 1, warming: 2, metric: 200 })), { action: 'out', to: 4 }, 'asks for more than already coming');
  t.match(decideScaling(policy, view({ desired: 3, contributing: 1, warming: 2, metric: 0 })), { action: 'none', reason: /warming/ }, 'no scale-in while warming');
  t.end();
});

t.test('scale-in: one step, after the cool-down, only if one fewer stays under 90% of target', (t) => {
  const lastScalingAt = 1_000_000 - 301_000;
  t.match(decideScaling(policy, view({ desired: 4, contributing: 4, metric: 5, lastScalingAt })), { action: 'in', to: 3 }, 'one step even when far below');
  t.match(decideScaling(policy, view({ desired: 4, contributing: 4, metric: 5, lastScalingAt: 1_000_000 - 299_000 })), { action: 'none', reason: /cool-down/ });
  t.match(decideScaling(policy, view({ desired: 4, contributing: 4, metric: 40, lastScalingAt })), { action: 'none' }, 'ceil(4 × 40 / 50) = 4: stays');
  t.match(decideScaling(policy, view({ desired: 4, contributing: 4, metric: 37, lastScalingAt })), { action: 'none', reason: /one worker fewer/ }, '3 would run at 49.3%, above 90% of target: no flapping');
  t.match(decideScaling(policy, view({ desired: 4, contributing: 4, metric: 33, lastScalingAt })), { action: 'in', to: 3 }, 'ceil(4 × 33 / 45) = 3');
  t.match(decideScaling(policy, view({ desired: 1, contributing: 1, metric: 0, lastScalingAt })), { action: 'none' }, 'never below min');
  t.match(decideScaling(policy, view({ metric: undefined })), { action: 'none', reason: /no metric/ });
  t.end();
});

t.test('requests per target: out on what the busier policy asks, in only when both agree', (t) => {
  const both = { ...policy, requestsPerTarget: 600 };
  const lastScalingAt = 1_000_000 - 301_000;
  t.match(decideScaling(both, view({ metric: 5, requestsPerMinute: 1500 })), { action: 'out', to: 3, cause: /1500 requests\/min against 600 per worker/ }, 'ceil(1500 / 600) = 3 with a cool CPU');
  t.match(decideScaling(both, view({ metric: 90, requestsPerMinute: 100 })), { action: 'out', to: 2, cause: /^target tracking: average CPU 90%/ }, 'CPU asks for more: CPU decides');
  t.match(decideScaling(both, view({ metric: 5, requestsPerMinute: 9000 })), { action: 'out', to: 4 }, 'clamped to max');
  t.match(decideScaling(both, view({ desired: 3, contributing: 3, metric: 5, requestsPerMinute: 1500, lastScalingAt })), { action: 'none' }, 'CPU would scale in, requests hold 3');
  t.match(decideScaling(both, view({ desired: 3, contributing: 3, metric: 5, requestsPerMinute: 1100, lastScalingAt })), { action: 'none', reason: /one worker fewer/ }, '2 workers would take 917/min each, above 90% of 600');
  t.match(decideScaling(both, view({ desired: 3, contributing: 3, metric: 5, requestsPerMinute: 1000, lastScalingAt })), { action: 'in', to: 2 }, 'both agree: one step in');
  t.match(decideScaling(both, view({ metric: 5, requestsPerMinute: undefined })), { action: 'none' }, 'no request window yet: CPU alone');
  t.match(decideScaling(policy, view({ metric: 5, requestsPerMinute: 100_000 })), { action: 'none' }, 'a policy without requestsPerTarget ignores requests');
  t.end();
});

t.test('the request window: per minute over the evaluation window, a counter reset starts again', async (t) => {
  const { RequestHistory } = await import('../../localcloud/request-metric.js');
  const h = new RequestHistory();
  h.record('catalog', 100, 0, 5000);
  t.equal(h.perMinute('catalog', 2000, 100), undefined, 'one sample: no rate');
  h.record('catalog', 150, 1000, 5000);
  h.record('catalog', 200, 2000, 5000);
  t.equal(h.perMinute('catalog', 2000, 100), 3000, '100 requests in 2 s = 3000/min');
  h.record('catalog', 10, 3000, 5000);
  t.equal(h.perMinute('catalog', 2000, 100), undefined, 'a smaller total (HAProxy reloaded) drops the window');
  t.end();
});

t.test('backend request totals from show stat', async (t) => {
  const { backendRequests } = await import('../../localcloud/haproxy-runtime.js');
  const csv = [
    '# pxname,svname,qcur,scur,stot,status,req_tot',
    'gateway,FRONTEND,0,1,9,OPEN,92',
    'be_catalog,w1,0,0,40,no check,40',
    'be_catalog,BACKEND,0,0,41,UP,41',
    'be_users,BACKEND,0,0,7,UP,7',
    '',
  ].join('\n');
  t.same([...backendRequests(csv)], [['be_catalog', 41], ['be_users', 7]]);
  t.same([...backendRequests('# pxname,svname,stot\n')], [], 'no req_tot column: nothing');
  t.end();
});

t.test('decisions always stay within [min, max] and scale in by one', (t) => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 8 }),
      fc.integer({ min: 0, max: 8 }),
      fc.integer({ min: 0, max: 8 }),
      fc.double({ min: 0, max: 400, noNaN: true }),
      fc.integer({ min: 1, max: 100 }),
      (min, extra, desiredOver, metric, target) => {
        const max = min + extra;
        const desired = Math.min(max, min + desiredOver);
        const p = { ...policy, min, max, desired, cpuTarget: target, cooldownSeconds: 0 };
        const d = decideScaling(p, view({ desired, contributing: desired, metric }));
        if (d.action === 'none') return true;
        if (d.action === 'in') return d.to === desired - 1 && d.to >= min;
        return d.to > desired && d.to <= max;
      },
    ),
  );
  t.pass('property holds');
  t.end();
});

t.test('CPU window: average over workers with a full window of samples', (t) => {
  const h = new CpuHistory();
  // Worker a: 500 ms of CPU per second (50 %), sampled every 250 ms for 3 s.
  for (let i = 0; i <= 12; i++) h.record('a', { at: 10_000 + i * 250, cpuMs: 1000 + i * 125 }, 5000);
  // Worker b: idle, but only 1 s of samples.
  for (let i = 0; i <= 4; i++) h.record('b', { at: 12_000 + i * 250, cpuMs: 50 }, 5000);
  t.equal(h.usage('a', 2000, 125), 50);
  t.equal(h.usage('b', 2000, 125), undefined, 'window not full yet');
  t.same(h.groupAverage(['a', 'b'], 2000, 125), { metric: 50, contributing: ['a'] });
  for (let i = 5; i <= 12; i++) h.record('b', { at: 12_000 + i * 250, cpuMs: 50 }, 5000);
  t.equal(h.groupAverage(['a', 'b'], 2000, 125).metric, 25, 'both count once b has a full window');
  h.forget('a');
  t.equal(h.usage('a', 2000, 125), undefined);
  t.end();
});

t.test('fleet spec validation names the field', (t) => {
  const ok = { gateway: { port: 0 }, services: { users: { program: '/x.js', artifact: 'a', policy: { ...policy } } } };
  t.ok(parseFleetSpec(ok));
  t.throws(() => parseFleetSpec({ ...ok, services: { users: { ...ok.services.users, policy: { ...policy, desired: 9 } } } }), { message: /services\.users\.policy: needs min <= desired <= max, got 1 \/ 9 \/ 4/ });
  t.throws(() => parseFleetSpec({ ...ok, services: { users: { ...ok.services.users, policy: { ...policy, cpuTarget: 0 } } } }), { message: /services\.users\.policy\.cpuTarget/ });
  t.throws(() => parseFleetSpec({ ...ok, services: { Users: ok.services.users } }), { message: /services/ });
  t.throws(() => parseFleetSpec({ ...ok, services: { a: { ...ok.services.users, routes: ['/api/x'] }, b: { ...ok.services.users, routes: ['/api/x/'] } } }), { message: /\/api\/x is already routed to a/ });
  t.end();
});
