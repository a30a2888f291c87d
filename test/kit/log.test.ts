// kit/log.ts: lines are batched, but none is lost or held back when it matters: a warning or an
// error goes out at once, a full buffer goes out, close() and process exit write what is left,
// and credentials stay redacted (the access logger's fixed fields need no redaction).
import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBufferedLogger, isoTimestamp } from '../../services/kit/log.js';
import { distFile } from '../helpers/processes.js';
import type { TestTap } from '../helpers/mysql.js';

async function logFile(t: TestTap) {
  const dir = await mkdtemp(join(tmpdir(), 'saleday-log-'));
  const file = join(dir, 'log.jsonl');
  const handle = await open(file, 'w');
  t.teardown(async () => {
    await handle.close();
    await rm(dir, { recursive: true, force: true });
  });
  const lines = async () => (await readFile(file, 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
  return { fd: handle.fd, lines };
}

t.test('info lines wait for the batch; warnings, a full buffer and close() write them', async (t) => {
  const { fd, lines } = await logFile(t);
  // A long interval, so only the events under test write anything.
  const logger = createBufferedLogger('svc', { fd, bufferMs: 60_000 });
  logger.log.info({ n: 1 }, 'first');
  logger.access.info({ reqId: 'r1', method: 'GET', path: '/x', status: 200, ms: 1 }, 'request');
  t.same(await lines(), [], 'nothing written yet');
  logger.log.warn({ n: 2 }, 'careful');
  t.same((await lines()).map((l) => l.msg), ['first', 'request', 'careful'], 'a warning flushes, in order');
  const access = (await lines())[1]!;
  t.match(access, { level: 'info', service: 'svc', name: 'svc', reqId: 'r1', method: 'GET', path: '/x', status: 200, msg: 'request' }, 'access lines have the usual shape');
  t.match(access.time, /^\d{4}-\d\d-\d\dT/);

  for (let i = 0; i < 100; i++) logger.log.info({ i, filler: 'x'.repeat(40) }, 'bulk');
  t.ok((await lines()).length > 3, 'a full buffer (4 KiB) is written without waiting');

  logger.log.info({ password: 'hunter2', req: { headers: { authorization: 'Bearer abc' } } }, 'last');
  logger.close();
  const all = await lines();
  t.equal(all.length, 104, 'close() writes the rest');
  t.notMatch(JSON.stringify(all), /hunter2|Bearer abc/, 'credentials are redacted');
});

t.test('the timestamp is the current time in ISO 8601, formatted again each millisecond', (t) => {
  const before = Date.now();
  const first = /^,"time":"(.+)"$/.exec(isoTimestamp())?.[1];
  t.ok(first, 'a pino time field');
  const stamped = Date.parse(first!);
  t.ok(stamped >= before && stamped <= Date.now(), 'the current time');
  t.equal(new Date(stamped).toISOString(), first, 'ISO 8601 with milliseconds, UTC');
  const later = Date.now() + 2;
  while (Date.now() < later); // let the clock move on (a busy wait of 2 ms, not a sleep)
  const second = /^,"time":"(.+)"$/.exec(isoTimestamp())?.[1];
  t.ok(Date.parse(second!) >= later, 'a later millisecond gets its own time');
  t.end();
});

t.test('a bufferMs of 0 writes each line at once', async (t) => {
  const { fd, lines } = await logFile(t);
  const logger = createBufferedLogger('svc', { fd, bufferMs: 0 });
  logger.log.info('one');
  t.same((await lines()).map((l) => l.msg), ['one']);
  logger.close();
});

t.test('lines still buffered when the process exits are written', async (t) => {
  const script = `
    const { createBufferedLogger } = await import(${JSON.stringify(distFile('services/kit/log.js'))});
    const { log } = createBufferedLogger('svc', { bufferMs: 60_000 });
    for (let i = 0; i < 3; i++) log.info({ i }, 'pending');
    process.exit(0);
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise((resolve) => child.once('close', resolve));
  t.equal(code, 0);
  t.same(out.split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { i: number }).i), [0, 1, 2]);
});
