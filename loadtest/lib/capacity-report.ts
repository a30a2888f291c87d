// The capacity search's report.html: one self-contained page (uPlot inlined, as report.ts does)
// with the answer first — the highest rate that held, what broke first and the service that was
// the limit — then the steps drawn (scheduled against achieved rate, latency and errors per
// step, the failing step shaded) and their table, each row linking to that step's own report.
import type { CapacityReport } from './capacity-command.js';
import { esc, scriptJson, uplot } from './report.js';
import { formatMs, formatPercent } from './units.js';

export interface CapacityChartData {
  /** step numbers, 1-based */
  x: number[];
  rates: number[];
  achieved: number[];
  requests: number[];
  p50: Array<number | null>;
  p95: Array<number | null>;
  p99: Array<number | null>;
  errors: number[];
  passed: boolean[];
}

export function capacityChartData(r: CapacityReport): CapacityChartData {
  const round = (v: number | undefined): number | null => (v === undefined ? null : Number(v.toFixed(3)));
  return {
    x: r.steps.map((s) => s.index + 1),
    rates: r.steps.map((s) => s.rate),
    achieved: r.steps.map((s) => Number(s.achievedRate.toFixed(2))),
    requests: r.steps.map((s) => Number(s.requestsPerSecond.toFixed(1))),
    p50: r.steps.map((s) => round(s.p50Ms)),
    p95: r.steps.map((s) => round(s.p95Ms)),
    p99: r.steps.map((s) => round(s.p99Ms)),
    errors: r.steps.map((s) => Number((s.errorRate * 100).toFixed(3))),
    passed: r.steps.map((s) => s.passed),
  };
}

export function renderCapacityReport(r: CapacityReport): string {
  const { js, css } = uplot();
  const ok = r.highestHeld !== undefined && (r.required === undefined || r.highestHeld >= r.required);
  const headline = r.highestHeld === undefined ? 'No rate held: the first step already failed.' : `Highest rate that held: <b>${r.highestHeld} journeys/s</b>.`;
  const broke = r.brokeAt
    ? `<h2>What broke first, at ${r.brokeAt.rate} journeys/s</h2><table id="broke"><tr><th>threshold</th><th>measured</th><th>endpoint</th><th>where</th></tr>${r.brokeAt.failed
        .map((f) => `<tr class="fail"><td>${esc(f.label)}</td><td>${esc(f.measured)}</td><td>${esc(f.endpoint ?? '–')}</td><td class="path">${esc(f.path)}</td></tr>`)
        .join('')}</table><p id="limit">${r.brokeAt.bottleneck ? `The limit: <b>${esc(r.brokeAt.bottleneck.service)}</b> — ${esc(r.brokeAt.bottleneck.reason)}.` : 'The limit: not known (the probe gave no CPU figures and no endpoint of a service failed).'}</p>`
    : `<p>Every step held; the search stopped because ${esc(r.stoppedBecause)}.</p>`;
  const services = [...new Set(r.steps.flatMap((s) => Object.keys(s.fleet)))].sort();
  const rows = r.steps
    .map((s) => {
      const fleet = services.map((n) => {
        const f = s.fleet[n];
        return `<td>${f ? `${f.inService}/${f.max}${f.cpu === undefined ? '' : ` · ${f.cpu.toFixed(0)}%`}` : '–'}</td>`;
      });
      const name = s.dir ? s.dir.split('/').pop()! : '';
      return `<tr class="${s.passed ? 'pass' : 'fail'}"><td>${s.index + 1}</td><td>${s.rate}</td><td class="mark">${s.passed ? '✓ held' : '✗ FAILED'}</td><td>${s.achievedRate.toFixed(1)}</td><td>${s.requestsPerSecond.toFixed(0)}</td><td>${s.p95Ms === undefined ? '–' : esc(formatMs(s.p95Ms))}</td><td>${s.p99Ms === undefined ? '–' : esc(formatMs(s.p99Ms))}</td><td>${esc(formatPercent(s.errorRate))}</td>${fleet.join('')}<td>${name ? `<a href="${esc(name)}/report.html">${esc(name)}</a>` : ''}</td></tr>`;
    })
    .join('');
  const plan = r.plan;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>capacity of ${esc(r.profile.name)} — ${r.highestHeld ?? 'none'} journeys/s — saleday loadtest</title>
<style>${css}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 auto;max-width:1200px;padding:16px 24px;color:#1d232a;background:#fff}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #dde2e8;padding-bottom:4px}
.badge{display:inline-block;padding:2px 12px;border-radius:4px;color:#fff;font-weight:700;margin-left:8px;vertical-align:middle}.badge.pass{background:#1f883d}.badge.fail{background:#cf222e}
.meta{color:#57606a}table{border-collapse:collapse;width:100%;margin:6px 0}th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #eaeef2;vertical-align:top}
th{background:#f6f8fa;font-weight:600}tr.fail td{background:#ffebe9}tr.pass td.mark{color:#1f883d;font-weight:700}tr.fail td.mark{color:#cf222e;font-weight:700}
td.path{color:#57606a;font-size:12px}.chart{margin:8px 0 18px}.chart .title{font-weight:600;margin-bottom:2px}.answer{font-size:18px;margin:12px 0}
</style></head>
<body data-charts-ready="0">
<h1>Capacity of ${esc(r.target.label)} for ${esc(r.profile.name)} <span class="badge ${ok ? 'pass' : 'fail'}">${r.highestHeld ?? 'none'} journeys/s</span></h1>
<div class="meta">Target ${esc(r.target.url)} · started ${esc(r.startedAt)} · ${r.steps.length} steps of ${esc(formatMs(plan.holdMs))} from ${plan.start} journeys/s, ${plan.increment !== undefined ? `+${plan.increment}` : `×${plan.factor}`} per step${plan.maxRate === null ? '' : `, at most ${plan.maxRate}`} · run ${esc(r.runId)}</div>
<p class="answer" id="answer">${headline}${r.required === undefined ? '' : ` Required: ${r.required} journeys/s — ${ok ? 'met' : '<b>not met</b>'}.`}</p>
${broke}
<h2>Steps</h2>
<div class="chart" id="chart-steps"><div class="title">Journeys per second by step: scheduled against achieved (and requests per second); the failing step is shaded</div></div>
<div class="chart" id="chart-step-latency"><div class="title">Latency by step from each request's intended start (ms, log scale), and error rate (%)</div></div>
<table id="steps"><tr><th>step</th><th>journeys/s</th><th></th><th>achieved/s</th><th>requests/s</th><th>p95</th><th>p99</th><th>errors</th>${services.map((n) => `<th>${esc(n)} in service · CPU</th>`).join('')}<th>its report</th></tr>${rows}</table>
<p class="meta">Each step runs the profile's journeys at a constant rate (open model, latency from the intended start) and is judged on the profile's thresholds except those that judge a whole sale day (scale-out, scale-in, oversell). Accounts with sessions stay signed in from step to step.</p>
<script>${js.replace(/<\/script/gi, '<\\/script')}</script>
<script type="application/json" id="chart-data">${scriptJson(capacityChartData(r))}</script>
<script>${CHART_SCRIPT}</script>
</body></html>
`;
}

// Runs in the page: two charts over the steps, the failing step shaded.
const CHART_SCRIPT = `
(function () {
  var d = JSON.parse(document.getElementById('chart-data').textContent);
  var ready = 0;
  function done() { ready++; document.body.dataset.chartsReady = String(ready); }
  var shade = { hooks: { draw: [function (u) {
    var ctx = u.ctx; ctx.save(); ctx.fillStyle = 'rgba(207,34,46,0.12)';
    d.passed.forEach(function (p, i) { if (p) return;
      var a = u.valToPos(d.x[i] - 0.5, 'x', true), b = u.valToPos(d.x[i] + 0.5, 'x', true);
      ctx.fillRect(a, u.bbox.top, b - a, u.bbox.height); });
    ctx.restore();
  }], ready: [done] } };
  var xAxis = { label: 'step (journeys/s)', values: function (u, vs) { return vs.map(function (v) { var i = d.x.indexOf(v); return i < 0 ? '' : v + ' (' + d.rates[i] + ')'; }); }, incrs: [1] };
  var xScale = { time: false, range: function () { return [0.5, d.x.length + 0.5]; } };
  function chart(id, series, cols, opts) {
    var el = document.getElementById(id);
    if (!d.x.length) { var e = document.createElement('div'); e.textContent = 'no steps'; el.appendChild(e); return done(); }
    var o = Object.assign({ width: Math.max(400, el.clientWidth || 1100), height: 280, plugins: [shade], scales: { x: xScale }, axes: [xAxis, { size: 60 }],
      series: [{ label: 'step' }].concat(series) }, opts || {});
    return new uPlot(o, cols, el);
  }
  var pts = { show: true, size: 8 };
  chart('chart-steps', [
    { label: 'scheduled journeys/s', stroke: '#6e7781', dash: [6, 4], width: 2, points: pts },
    { label: 'achieved journeys/s', stroke: '#0969da', width: 2, points: pts },
    { label: 'requests/s', stroke: '#1f883d', width: 1, scale: 'req', points: pts }
  ], [d.x, d.rates, d.achieved, d.requests], { axes: [xAxis, { size: 60, label: 'journeys/s' }, { side: 1, scale: 'req', size: 60, grid: { show: false }, label: 'requests/s' }] });
  chart('chart-step-latency', [
    { label: 'p50 ms', stroke: '#1f883d', width: 2, points: pts },
    { label: 'p95 ms', stroke: '#bf8700', width: 2, points: pts },
    { label: 'p99 ms', stroke: '#cf222e', width: 2, points: pts },
    { label: 'errors %', stroke: '#8250df', width: 2, dash: [2, 3], scale: 'err', points: pts }
  ], [d.x, d.p50, d.p95, d.p99, d.errors], { scales: { x: xScale, y: { distr: 3 }, err: { range: function (u, min, max) { return [0, Math.max(1, max * 1.1)]; } } },
    axes: [xAxis, { size: 60, label: 'ms' }, { side: 1, scale: 'err', size: 60, grid: { show: false }, label: 'errors %' }] });
})();
`;
