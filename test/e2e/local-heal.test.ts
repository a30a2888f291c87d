// The local shop heals itself (issue 15): a SIGKILL of the supervisor under load (autocannon past
// the gateway's cache, and the load harness's journeys beside it) does not take the
// shop down (the gateway is its own process) and a keeper starts a new supervisor that takes the
// fleet over; destroy then leaves no process of the shop; after another SIGKILL a redeploy
// repairs the shop on the same URL (gatewayPort 0) with nothing left over, and destroy again
// leaves nothing. Deployed with ./playbooks/deploy.mjs into a private folder on a free port.
import t from 'tap';
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';
import { fleetState } from '../../localcloud/control-client.js';
import { shopProcesses, type ShopRole } from '../../localcloud/shop-processes.js';
import { expectExit, localShop, printedUrl } from '../helpers/local-shop.js';
import { alive, waitFor } from '../local/fleet-harness.js';
import { join } from 'node:path';
import { besideProfile, failedEndpoints, runCli, runEndpoints } from '../loadtest/helpers.js';
import type { LocalState } from '../../environment/index.js';

t.setTimeout(420_000);

const shop = await localShop(t);
const EVERY_ROLE: ShopRole[] = ['keeper', 'supervisor', 'gateway', 'static', 'worker', 'database', 'cache'];

const supervisorPid = () => (JSON.parse(readFileSync(`${shop.dir}/supervisor.json`, 'utf8')) as { pid: number }).pid;
const workerPids = (s: LocalState) => Object.values(s.services).flatMap((x) => x.workers.map((w) => w.pid));
const settled = (s: LocalState) => Object.values(s.services).every((x) => x.size === x.desired && x.workers.length === x.desired && x.workers.every((w) => w.state === 'in-service'));
const parentOf = (pid: number) => {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
};
// `no-cache`: past the gateway's 1 s cache of public catalog reads, so a worker answers.
const PAST_THE_CACHE = { 'cache-control': 'no-cache' };
const answers = (url: string) => fetch(new URL('/api/catalog/products?limit=1', url), { headers: PAST_THE_CACHE }).then((r) => r.status === 200, () => false);

/** A bounded load on the product listing, answered by the workers; resolves with autocannon's result. */
function load(url: string, seconds: number): Promise<autocannon.Result> {
  return autocannon({ url: new URL('/api/catalog/products?limit=5', url).href, headers: PAST_THE_CACHE, connections: 8, duration: seconds });
}

let url = '';
let healed: LocalState;

t.test('SIGKILL of the supervisor under load: the shop keeps answering on the same URL and heals', async (t) => {
  const r = await shop.playbook('deploy');
  expectExit(t, r, 0, 'deploy');
  url = printedUrl(r.stdout);
  const before = await shop.state();
  const oldWorkers = workerPids(before);
  // The load harness beside it: every sale-day journey (logins, checkouts through orders,
  // inventory and users), judged on 0% errors and no oversell.
  const harness = runCli(['--profile', await besideProfile(shop.dir, { seconds: 30, rate: 2, maxErrorRate: '0%' }), '--target', 'local', '--state-dir', shop.dir, '--out', join(shop.dir, 'runs'), '--quiet'], { NODE_NO_WARNINGS: '1' });
  const running = load(url, 12);
  await waitFor('the load under way', () => answers(url));
  const victim = supervisorPid();
  process.kill(victim, 'SIGKILL');
  const killedAt = Date.now();
  await waitFor('the shop answering after the kill', () => answers(url), 5000);
  t.ok(Date.now() - killedAt < 5000, `answered again within 5 s (${Date.now() - killedAt} ms)`);
  healed = await waitFor('a new supervisor with its own workers, the old ones gone', async () => {
    const s = await fleetState(shop.dir);
    return s && settled(s) && alive(oldWorkers).length === 0 && supervisorPid() !== victim ? s : undefined;
  }, 120_000);
  const result = await running;
  t.equal(result.errors, 0, `no connection error under load (${result.requests.total} requests)`);
  t.equal(result.non2xx, 0, 'no failed request under load');
  const run = await harness;
  const endpoints = await runEndpoints(run);
  t.equal(run.code, 0, `the harness beside kept 0% errors and no oversell\n${run.stdout.slice(-2500)}\n${run.stderr.slice(-800)}\n${failedEndpoints(endpoints).join('\n')}`);
  t.same(failedEndpoints(endpoints), [], 'no harness request failed across the crash and the takeover');
  t.equal(healed.gatewayUrl, url, 'same URL');
  t.equal(shopProcesses(shop.dir, ['worker']).length, workerPids(healed).length, 'no orphaned worker: every worker of the shop is in the state');
  const status = await shop.playbook('status');
  expectExit(t, status, 0, 'status');
});

t.test('SIGKILL, redeploy: repaired on the same URL (gatewayPort 0), nothing left over', async (t) => {
  process.kill(supervisorPid(), 'SIGKILL');
  const again = await shop.playbook('deploy');
  expectExit(t, again, 0, 'redeploy after the crash');
  t.equal(printedUrl(again.stdout), url, 'the redeploy keeps the URL');
  const after = await waitFor('the repaired shop settled, old workers gone', async () => {
    const s = await fleetState(shop.dir);
    return s && settled(s) && alive(workerPids(healed)).length === 0 ? s : undefined;
  }, 120_000);
  t.ok(await answers(url), 'the shop answers');
  t.equal(shopProcesses(shop.dir, ['worker']).length, workerPids(after).length, 'no worker left over from before the crash');
  const master = (JSON.parse(readFileSync(`${shop.dir}/gateway/gateway.json`, 'utf8')) as { haproxy: { pid: number } }).haproxy.pid;
  t.same(shopProcesses(shop.dir, ['gateway']).filter((p) => p.pid !== master && parentOf(p.pid) !== master), [], 'one gateway: its HAProxy master and that master\'s workers');
  t.equal(shopProcesses(shop.dir, ['supervisor']).length, 1, 'one supervisor');
});

t.test('SIGKILL, destroy: no process of the shop is left', async (t) => {
  const workers = workerPids((await fleetState(shop.dir))!);
  process.kill(supervisorPid(), 'SIGKILL');
  const d = await shop.playbook('destroy');
  expectExit(t, d, 0, 'destroy');
  t.same(shopProcesses(shop.dir, EVERY_ROLE), [], 'no process of the shop is left (keeper, supervisor, gateway, static origin, workers, database)');
  t.same(alive(workers), []);
});
