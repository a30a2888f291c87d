// The fleet with a real kit-based service (the notes fixture, on its own MariaDB database): it
// comes up through the gateway, rolls to a new artifact under load with no failed request and
// no request applied twice, and stops with every worker draining and exiting 0.
import t from 'tap';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { testDatabase } from '../helpers/mysql.js';
import type { FleetSpec } from '../../localcloud/fleet-spec.js';
import { FAST_TUNING, Load, alive, allPids, fixture, settledAt, startFleet, waitFor } from './fleet-harness.js';

const db = await testDatabase(t, 'fleet');
const fleet = await startFleet(t);
// The fixture is TypeScript: run it through the same loader tap uses, transpile only.
const tsLoader = process.execArgv.find((a) => a.includes('@tapjs/typescript'))?.replace(/^--import=/, '') ?? import.meta.resolve('@tapjs/typescript/import');

const spec = (artifact: string): FleetSpec => ({
  gateway: { port: 0 },
  tuning: { ...FAST_TUNING, startSeconds: 90 },
  services: {
    notes: {
      program: fixture('notes-main.ts'),
      nodeArgs: ['--no-deprecation', `--import=${tsLoader}`],
      env: { TS_NODE_TRANSPILE_ONLY: '1', DB_SECRET: db.refs.db, JWT_VERIFY_SECRET: db.refs.jwtVerify, MIGRATE_ON_START: 'true', LOG_LEVEL: 'warn' },
      artifact,
      routes: ['/api/notes', '/api/slow'],
      policy: { min: 2, max: 2, desired: 2, cpuTarget: 50, warmupSeconds: 1, cooldownSeconds: 2, evaluationSeconds: 2 },
    },
  },
});

t.test('a kit service rolls under load without a failed or repeated request, and stops cleanly', async (t) => {
  const first = await fleet.apply(spec('notes-v1'));
  t.same(first.services, { notes: 'created' });
  const before = await fleet.state();
  t.ok(settledAt(before, 'notes', 2), 'two kit workers in service');
  const url = first.gatewayUrl;

  let n = 0;
  const load = new Load(url, (i) => (i % 2 ? { method: 'GET', path: '/api/slow?ms=120' } : { method: 'POST', path: '/api/notes', body: JSON.stringify({ title: `note ${n++}`, stars: 3 }) }), 4).start();
  await waitFor('load under way', () => load.outcomes.length >= 10);
  const rolled = await fleet.apply(spec('notes-v2'));
  const mark = load.outcomes.length;
  await waitFor('20 more requests', () => load.outcomes.length >= mark + 20);
  const outcomes = await load.stop();

  t.same(rolled.services, { notes: 'replaced' });
  t.same(load.failures(), [], `no failed request (${outcomes.length} sent)`);
  const after = await fleet.state();
  t.ok(settledAt(after, 'notes', 2));
  t.notOk(allPids(after).some((p) => allPids(before).includes(p)), 'both workers replaced');
  const created = outcomes.filter((o) => o.method === 'POST' && o.status === 201).length;
  const [rows] = await db.sql.query('SELECT COUNT(*) AS n FROM notes');
  t.equal(Number((rows as Array<{ n: number }>)[0]!.n), created, 'every POST applied exactly once');

  const pids = [...allPids(before), ...allPids(after)];
  await fleet.stop();
  t.same(alive(pids), [], 'no worker left');
  const log = await readFile(join(fleet.dir, 'supervisor.log'), 'utf8');
  for (const pid of pids) t.match(log, new RegExp(`worker pid ${pid} stopped \\(exit code 0\\)`), `worker ${pid} drained and exited 0`);
});
