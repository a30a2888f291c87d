// The wire: autocannon's connections driven by the scheduler. These tests pin the two autocannon
// internals wire.ts relies on (its send point and the request object it sends from) by their
// effects: the right bytes reach the server, every response lands on the request that asked for
// it, and broken connections, timeouts and servers that close after each answer are accounted for.
import t from 'tap';
import { runInProcess, startServer } from './helpers.js';

const seen: string[] = [];
const { url } = await startServer(t, (req, res, body) => {
  const path = req.url ?? '/';
  if (path.startsWith('/echo')) {
    seen.push(`${req.method} ${path} ${String(req.headers['x-journey'] ?? '')} ${body}`);
    const text = JSON.stringify({ path, body, journey: req.headers['x-journey'] });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  } else if (path === '/close') {
    res.writeHead(200, { connection: 'close', 'content-length': 2 });
    res.end('ok');
  } else if (path === '/reset') {
    req.socket.destroy();
  } else if (path === '/hang') {
    // never answers
  } else {
    res.writeHead(404, { 'content-length': 0 });
    res.end();
  }
});

const profile = (steps: string, connections = 4) => `
name: wire
maxInFlight: ${connections}
timeout: 1s
drain: 3s
phases:
  - { name: one, duration: 1s, rate: 40 }
journeys:
  - name: j
    weight: 100
    steps:
${steps}
`;

t.test('each response lands on its own request, with its own captured values', async (t) => {
  const r = await runInProcess(
    profile(`      - request: POST /echo/{{n}}
        headers: { X-Journey: "{{n}}" }
        json: { n: "{{n}}" }
        capture: { echoed: body }
      - request: GET /echo/again/{{echoed}}
        headers: { X-Journey: "{{n}}" }`),
    url,
  );
  t.equal(r.recording.journeys.j!.completed, 40);
  t.equal(r.recording.journeys.j!.failed, 0);
  const again = seen.filter((s) => s.startsWith('GET /echo/again/'));
  t.equal(again.length, 40);
  for (const line of again) {
    const [, path, journey] = line.split(' ');
    const n = journey!;
    t.equal(decodeURIComponent(path!.slice('/echo/again/'.length)), JSON.stringify({ n: Number(n) }), `journey ${n} carried its own capture`);
  }
  t.equal(r.processes[0]!.autocannon?.completed, 80, 'autocannon counted the same responses');
});

t.test('a server that closes the connection after every answer costs no request', async (t) => {
  const r = await runInProcess(profile('      - request: GET /close'), url);
  t.same(r.recording.endpoints['GET /close']!.statuses, { 200: 40 });
});

t.test('broken connections and timeouts are errors, filed under their reason', async (t) => {
  const reset = await runInProcess(profile('      - request: GET /reset'), url);
  t.same(reset.recording.endpoints['GET /reset']!.statuses, { connection: 40 });
  t.equal(reset.recording.endpoints['GET /reset']!.errors, 40);
  // enough connections for every request to be on the wire when its timeout strikes
  const hang = await runInProcess(profile('      - request: GET /hang', 64), url);
  t.same(hang.recording.endpoints['GET /hang']!.statuses, { timeout: 40 });
  t.equal(hang.recording.journeys.j!.failed, 40);
});

t.test('an unexpected status ends the journey as failed', async (t) => {
  const r = await runInProcess(profile('      - request: GET /missing\n      - request: GET /echo/never'), url);
  t.same(r.recording.endpoints['GET /missing']!.statuses, { 404: 40 });
  t.equal(r.recording.endpoints['GET /echo/never']?.requests ?? 0, 0, 'the next step was not sent');
  t.equal(r.recording.journeys.j!.failed, 40);
});
