// Acceptance 4 (the part that runs without the local target): a run against a stand-in shop
// with a stand-in local fleet that scales out in the spike and back in after it, watched through
// the local probe (state.json and activity.jsonl); its report.html opens in headless Chromium
// (Debian's) with no network, and the four charts render.
import { mkdtemp, readFile, writeFile, appendFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import t from 'tap';
import { LocalProbe } from '../../loadtest/lib/probes/local.js';
import { renderReport } from '../../loadtest/lib/report.js';
import { writeResult } from '../../loadtest/lib/result.js';
import { runInProcess, startServer, tempDir } from './helpers.js';

// The stand-in fleet follows the traffic like a target-tracking policy: 3 catalog workers while
// more than 30 requests arrived in the last half second, back to 1 once the traffic is light.
const stateDir = await tempDir(t);
const arrivals: number[] = [];
let catalog = 1;
const writeState = async (): Promise<void> => {
  const workers = (n: number) => Array.from({ length: n }, (_, i) => ({ pid: 1000 + i, port: 4000 + i, state: 'in-service' }));
  const state = {
    environment: 'local',
    gatewayUrl: url,
    updatedAt: new Date().toISOString(),
    services: {
      catalog: { min: 1, max: 3, desired: catalog, size: catalog, workers: workers(catalog), cpuTarget: 70, artifact: 'a' },
      orders: { min: 1, max: 3, desired: 1, size: 1, workers: workers(1), cpuTarget: 70, artifact: 'b' },
    },
  };
  await writeFile(join(stateDir, 'state.json'), JSON.stringify(state));
};
const scale = async (to: number, cause: string): Promise<void> => {
  if (to === catalog) return;
  await appendFile(join(stateDir, 'activity.jsonl'), `${JSON.stringify({ time: new Date().toISOString(), service: 'catalog', from: catalog, to, cause })}\n`);
  catalog = to;
  await writeState();
};
const { url } = await startServer(t, (_req, res) => {
  arrivals.push(Date.now());
  // one answer in 25 is an error, so that the errors chart has something to draw
  res.writeHead(arrivals.length % 25 ? 200 : 503, { 'content-type': 'application/json', 'content-length': 2 });
  res.end('{}');
});
await writeState();
const policy = setInterval(() => {
  const recent = arrivals.filter((a) => a > Date.now() - 500).length;
  if (recent > 30) void scale(3, 'request rate above target');
  else if (recent < 10) void scale(1, 'request rate below target');
}, 100);
t.teardown(() => clearInterval(policy));

const result = await runInProcess(
  `
name: report
description: A short sale in miniature for the report test.
maxInFlight: 16
phases:
  - { name: calm, duration: 2s, rate: 10 }
  - { name: spike, duration: 3s, rate: 10, rampTo: 150 }
  - { name: cool-down, duration: 2s, rate: 5 }
journeys:
  - name: view
    weight: 100
    steps:
      - request: GET /api/catalog/products/SKU-000001
thresholds:
  - { metric: p99, max: 2s }
  - { metric: achievedRate, min: 90% }
  - { metric: scaleOut, service: catalog, reaches: 3, within: 3s, phase: spike }
  - { metric: scaleIn, service: catalog, within: 10s }
`,
  url,
  { probe: new LocalProbe(stateDir) },
);
const out = await tempDir(t);
const dir = await writeResult(result, out, renderReport(result));

t.test('the fleet scaled out in the spike and back in after it, and the verdicts say so', (t) => {
  const byLabel = Object.fromEntries(result.verdicts.map((v) => [v.kind, v]));
  t.equal(byLabel.scaleOut?.ok, true, byLabel.scaleOut?.measured ?? '');
  t.equal(byLabel.scaleIn?.ok, true, byLabel.scaleIn?.measured ?? '');
  t.ok(result.fleet.samples.some((s) => s.services.catalog!.inService === 3), 'the probe saw 3 catalog workers');
  t.same(result.fleet.activities.map((a) => [a.service, a.from, a.to]), [['catalog', 1, 3], ['catalog', 3, 1]], 'both activities are in the report');
  t.end();
});

t.test('report.html renders its charts in headless Chromium without the network', async (t) => {
  const html = await readFile(join(dir, 'report.html'), 'utf8');
  t.notMatch(html, /<script[^>]+src=|<link[^>]+href=["']?https?:/i, 'nothing is loaded from elsewhere');
  const profileDir = await mkdtemp(join(tmpdir(), 'saleday-chromium-'));
  t.teardown(() => import('node:fs/promises').then((fs) => fs.rm(profileDir, { recursive: true, force: true })));
  const browser = await chromium.launchPersistentContext(profileDir, {
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    viewport: { width: 1280, height: 900 },
  });
  t.teardown(() => browser.close());
  const page = await browser.newPage();
  const requests: string[] = [];
  const errors: string[] = [];
  page.on('request', (r) => requests.push(r.url()));
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  await page.goto(`file://${join(dir, 'report.html')}`);
  await page.waitForFunction(() => (globalThis as any).document.body.dataset.chartsReady === '4', undefined, { timeout: 15_000 });
  t.same(errors, [], 'no script errors');
  t.same(requests.filter((u) => !u.startsWith('file://')), [], 'no network requests');
  t.equal(await page.locator('h1 .badge').textContent(), 'PASS');
  t.same(await page.locator('#verdicts tr td.mark').allTextContents(), ['✓ pass', '✓ pass', '✓ pass', '✓ pass'], 'the verdicts come first, one per threshold');

  // Pixels of each series' colour on each chart's canvas: the lines were drawn.
  const drawn = await page.evaluate(() => {
    // runs in the page (the project's TypeScript has no DOM types: just what is used here)
    interface Canvas {
      width: number;
      height: number;
      getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } };
    }
    interface Doc {
      querySelector(selector: string): Canvas | null;
      querySelectorAll(selector: string): ArrayLike<{ textContent: string | null }>;
    }
    const document = (globalThis as unknown as { document: Doc }).document;
    const count = (id: string, [r, g, b]: [number, number, number]) => {
      const canvas = document.querySelector(`#${id} canvas`);
      if (!canvas || !canvas.width) return -1;
      const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
      let n = 0;
      for (let i = 0; i < data.length; i += 4) if (Math.abs(data[i]! - r) < 40 && Math.abs(data[i + 1]! - g) < 40 && Math.abs(data[i + 2]! - b) < 40 && data[i + 3]! > 200) n++;
      return n;
    };
    const blue: [number, number, number] = [0x09, 0x69, 0xda];
    const red: [number, number, number] = [0xcf, 0x22, 0x2e];
    const grey: [number, number, number] = [0x8c, 0x95, 0x9f];
    return {
      rate: count('chart-rate', blue),
      latency: count('chart-latency', red),
      errors: count('chart-errors', red),
      fleet: count('chart-fleet', blue),
      phaseLines: count('chart-rate', grey),
      legends: Array.from(document.querySelectorAll('#chart-fleet .u-legend .u-label')).map((e) => e.textContent),
    };
  });
  t.ok(drawn.rate > 100, `achieved rate line drawn (${drawn.rate} px)`);
  t.ok(drawn.latency > 100, `p99 line drawn (${drawn.latency} px)`);
  t.ok(drawn.errors > 10, `errors line drawn (${drawn.errors} px)`);
  t.ok(drawn.fleet > 100, `instances per service drawn (${drawn.fleet} px)`);
  t.ok(drawn.phaseLines > 50, `phase boundaries marked (${drawn.phaseLines} px)`);
  t.same(drawn.legends.slice(1), ['catalog', 'orders'], 'one series per service');
  await page.screenshot({ path: join(dir, 'report.png'), fullPage: true });
});
