// --target: local (the local target's state), a URL, or an inventory loaded by
// environment/ (local → the local target; aws → its URL and Auto Scaling groups).
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { resolveTarget } from '../../loadtest/lib/target.js';
import { ROOT, tempDir } from './helpers.js';

const inventories = join(ROOT, 'playbooks', 'inventories');

t.test('local and inventories with target: local read the local state', async (t) => {
  const dir = await tempDir(t);
  await writeFile(join(dir, 'state.json'), JSON.stringify({ environment: 'local', gatewayUrl: 'http://127.0.0.1:8123', updatedAt: '', services: {} }));
  const local = await resolveTarget('local', { stateDir: dir });
  t.match(local, { kind: 'local', url: 'http://127.0.0.1:8123', label: 'local' });
  t.equal(local.probe?.kind, 'local');
  const viaInventory = await resolveTarget(join(inventories, 'local.yaml'), { stateDir: dir });
  t.match(viaInventory, { kind: 'local', url: 'http://127.0.0.1:8123' });
});

t.test('an aws inventory loads its domain and watches its Auto Scaling groups', async (t) => {
  const prod = await resolveTarget(join(inventories, 'production.yaml'), { stateDir: '/nonexistent', loadBalancer: 'app/saleday-production/abc' });
  t.equal(prod.kind, 'aws');
  t.match(prod.url, /^https:\/\/[a-z0-9.-]+$/);
  t.match(prod.probe?.describe(), /Auto Scaling groups of production in [a-z]+-[a-z]+-\d, ALB app\/saleday-production\/abc/);
  const overridden = await resolveTarget(join(inventories, 'production.yaml'), { stateDir: '/nonexistent', url: 'https://staging.example.net/x' });
  t.equal(overridden.url, 'https://staging.example.net');
});

t.test('bad targets say what to do', async (t) => {
  const dir = await tempDir(t);
  const bad = join(dir, 'bad.yaml');
  await writeFile(bad, 'project: saleday\nenvironment: x\ntarget: moon\n');
  await t.rejects(resolveTarget(bad, { stateDir: dir }), { name: 'UsageError', message: /^--target .*bad\.yaml/ });
  await t.rejects(resolveTarget(join(dir, 'missing.yaml'), { stateDir: dir }), { name: 'UsageError', message: /no such file/ });
  await t.rejects(resolveTarget('http://', { stateDir: dir }), { name: 'UsageError', message: /not a valid URL/ });
  await t.rejects(resolveTarget('local', { stateDir: dir }), { name: 'UsageError', message: /state\.json does not exist/ });
});
