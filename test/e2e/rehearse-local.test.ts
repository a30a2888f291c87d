// The one-command rehearsal on the local target, as CI runs it: ./playbooks/rehearse.mjs deploys
// a private shop, loads it from two local generators, judges it, tears it down, and leaves no
// process behind (none of the shop's, none of the generators'). The profile browses the catalog
// only, so the verdict does not hang on password hashing on a busy machine.
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { expectExit, localShop, recap } from '../helpers/local-shop.js';

t.setTimeout(400_000);

const shop = await localShop(t);
const work = await mkdtemp(join(tmpdir(), 'saleday-rehearse-'));
t.teardown(() => rm(work, { recursive: true, force: true }));
const profile = join(work, 'browse.yaml');
await writeFile(
  profile,
  `name: rehearse-browse
seed: 11
maxInFlight: 16
timeout: 10s
drain: 5s
phases:
  - { name: steady, duration: 8s, rate: 4 }
journeys:
  - name: browse
    weight: 100
    steps:
      - request: GET /api/catalog/products?limit=20
        capture: { sku: "items[*].sku" }
      - request: GET /api/catalog/products/{{sku}}
thresholds:
  - { metric: errorRate, max: 1% }
  - { metric: achievedRate, min: 90% }
`,
);
const results = join(work, 'results');

/** Processes that carry this shop's folder in their environment: the supervisor, gateway, workers, generators. */
async function shopProcesses(): Promise<number[]> {
  const found: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      if ((await readFile(`/proc/${name}/environ`, 'utf8')).split('\0').includes(`SALEDAY_LOCAL_DIR=${shop.dir}`)) found.push(Number(name));
    } catch {
      // gone, or not ours to read
    }
  }
  return found;
}

t.test('deploy → load from two generators → verdict → destroy, nothing left running', async (t) => {
  const r = await shop.playbook('rehearse', ['--skip-tags', 'render', '--profile', profile, '--generators', '2', '--results', results, '--yes']);
  expectExit(t, r, 0, 'rehearse');
  t.match(r.stdout, /ok: \[preflight capacity\] profile rehearse-browse: peak 4 journeys\/s/, 'the preflight measured the fleet against the profile');
  t.match(r.stdout, /changed: \[fleets and gateway\]/, 'deployed');
  t.match(r.stdout, /\[load\] 2 generators ready/, 'the load came from two generators');
  t.match(r.stdout, /ok: \[load\] PASS \(3 thresholds\); report /);
  t.match(r.stdout, /generator 1\/2 \([^)]+\): ok, \d+\/\d+ journeys/);
  t.match(r.stdout, /changed: \[stop fleets and gateway\] stopped \d+ worker\(s\), the gateway and the supervisor/, 'torn down');
  t.equal(recap(r.stdout).failed, 0);
  t.match(r.stdout, /\nrehearsal: PASS \(3 thresholds\) · cost \d+\.\d{3} instance-hours \((?:(?:users|catalog|inventory|orders) [\d.]+(?:, )?){4}\) from \d+ fleet samples over \d+ s of load \(local workers\)\n/);
  const runs = await readdir(results);
  t.equal(runs.length, 1, 'one result');
  const result = JSON.parse(await readFile(join(results, runs[0]!, 'result.json'), 'utf8')) as { generators: Array<{ state: string }>; fleet: { samples: unknown[] }; passed: boolean };
  t.same(result.generators.map((g) => g.state), ['ok', 'ok']);
  t.ok(result.fleet.samples.length > 1, 'the local fleet was sampled');
  t.same(await shopProcesses(), [], 'no process of the shop or the load is left');
});
