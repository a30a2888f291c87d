// The small pieces deploy.mjs and status.mjs use around the fleet: artifact hashes, a
// repository service as a fleet entry, the status table, and the state file written atomically.
import t from 'tap';
import { mkdtemp, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashArtifact } from '../../playbooks/lib/local/artifact-hash.js';
import { localServiceSpec } from '../../playbooks/lib/local/fleet-spec-for.js';
import { formatFleetStatus } from '../../localcloud/fleet-status.js';
import type { LocalState } from '../../environment/index.js';
import { appendActivity, readActivity, readState, writeState } from '../../localcloud/state-file.js';

const root = await mkdtemp(join(tmpdir(), 'sd-fleet-helpers-'));
t.teardown(() => rm(root, { recursive: true, force: true }));
await mkdir(join(root, 'dist', 'services', 'users'), { recursive: true });
await mkdir(join(root, 'dist', 'services', 'catalog'), { recursive: true });
await mkdir(join(root, 'dist', 'services', 'kit'), { recursive: true });
await writeFile(join(root, 'dist', 'services', 'users', 'main.js'), 'users v1');
await writeFile(join(root, 'dist', 'services', 'catalog', 'main.js'), 'catalog v1');
await writeFile(join(root, 'dist', 'services', 'kit', 'server.js'), 'kit v1');
await writeFile(join(root, 'package-lock.json'), '{}');
const policy = { min: 1, max: 2, desired: 1, cpuTarget: 50, warmupSeconds: 60, cooldownSeconds: 300, evaluationSeconds: 60 };

t.test('artifacts: same code, same hash; a change rolls only what it touches', async (t) => {
  const spec = async (name: string) => (await localServiceSpec(name, { root, env: { LOG_LEVEL: 'info' }, policy })).artifact;
  const users1 = await spec('users');
  const catalog1 = await spec('catalog');
  t.match(users1, /^sha256:[0-9a-f]{64}$/);
  t.equal(await spec('users'), users1, 'stable');
  await writeFile(join(root, 'dist', 'services', 'users', 'main.js'), 'users v2');
  t.not(await spec('users'), users1, 'users code changed');
  t.equal(await spec('catalog'), catalog1, 'catalog unchanged');
  await writeFile(join(root, 'dist', 'services', 'kit', 'server.js'), 'kit v2');
  t.not(await spec('catalog'), catalog1, 'the shared kit rolls everyone');
  t.equal(await hashArtifact([join(root, 'dist', 'services', 'users')], root), await hashArtifact([join(root, 'dist', 'services', 'users', 'main.js')], root), 'folder or file, same content');
  const full = await localServiceSpec('users', { root, env: { A: '1' }, policy, routes: ['/api/users'] });
  t.match(full, { program: join(root, 'dist', 'services', 'users', 'main.js'), env: { A: '1' }, routes: ['/api/users'], policy });
  await t.rejects(localServiceSpec('orders', { root, env: {}, policy }), { message: /orders[/\\]main\.js is missing: build first/ });
});

t.test('state file: atomic replace, activity appended as JSON lines', async (t) => {
  const dir = join(root, 'state');
  const state: LocalState = {
    environment: 'local',
    gatewayUrl: 'http://127.0.0.1:8080',
    updatedAt: '2030-01-01T00:00:00.000Z',
    services: { users: { min: 1, max: 3, desired: 2, size: 2, cpuTarget: 50, artifact: 'sha256:abcdef0123456789', workers: [{ pid: 11, port: 4001, state: 'in-service' }, { pid: 12, port: 4002, state: 'starting' }] } },
  };
  t.equal(await readState(dir), undefined, 'no state yet');
  await Promise.all(Array.from({ length: 20 }, (_, i) => writeState(dir, { ...state, updatedAt: `2030-01-01T00:00:${String(i).padStart(2, '0')}.000Z` })));
  t.match(await readState(dir), { environment: 'local', services: { users: { desired: 2 } } }, 'a whole state after concurrent writes');
  t.same((await readdir(dir)).filter((f) => f.endsWith('.tmp')), [], 'no temp file left');
  await appendActivity(dir, { time: '2030-01-01T00:00:01.000Z', service: 'users', from: 1, to: 2, cause: 'target tracking: …' });
  await appendActivity(dir, { time: '2030-01-01T00:00:02.000Z', service: 'users', from: 2, to: 1, cause: 'target tracking: below' });
  t.same((await readActivity(dir, 1)).map((a) => a.to), [1], 'the latest');
  t.equal((await readActivity(dir)).length, 2);

  const text = formatFleetStatus(state, await readActivity(dir));
  t.match(text, /gateway {2}http:\/\/127\.0\.0\.1:8080/);
  t.match(text, /users +1 +2 +3 +2 +50% +abcdef012345 +11:4001 12:4002 \(starting\)/);
  t.match(text, /2030-01-01 00:00:02Z +users +2 -> 1 +target tracking: below/);
  t.equal(formatFleetStatus(undefined, []), 'the local shop is not running (deploy it with ./playbooks/deploy.mjs)');
});
