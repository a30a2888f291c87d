// report.html: one self-contained page (no network: uPlot and its CSS are inlined) that a person
// can open from a CI artifact. The verdict per threshold comes first, then four charts with the
// phase boundaries marked — scheduled against achieved rate, latency percentiles over time,
// errors, and instances in service per service — then the tables behind them.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { decode, summarize, type LatencySummary } from './recorder.js';
import type { RunResult } from './result.js';
import { balanced } from './thresholds/oversell.js';
import { formatMs, formatPercent, formatSeconds } from './units.js';

const require = createRequire(import.meta.url);
let vendored: { js: string; css: string } | undefined;
export function uplot(): { js: string; css: string } {
  vendored ??= {
    js: readFileSync(require.resolve('uplot/dist/uPlot.iife.min.js'), 'utf8'),
    css: readFileSync(require.resolve('uplot/dist/uPlot.min.css'), 'utf8'),
  };
  return vendored;
}

export const esc = (s: unknown): string =>
  String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/** Embeds data in a <script> without letting it close the element. */
export const scriptJson = (v: unknown): string => JSON.stringify(v).replace(/</g, '\\u003c');

export interface ChartData {
  phases: Array<{ name: string; start: number }>;
  end: number;
  rate: { t: number[]; scheduled: number[]; achieved: number[]; requests: number[] };
  latency: { t: number[]; p50: Array<number | null>; p95: Array<number | null>; p99: Array<number | null>; max: Array<number | null> };
  errors: { t: number[]; errors: number[]; dropped: number[] };
  fleet: { t: number[]; services: Record<string, number[]>; activities: Array<{ t: number; service: string; from: number; to: number }> };
}

/** The series the charts draw, from a result. */
export function chartData(result: RunResult): ChartData {
  const secs = result.recording.seconds;
  // Each second's figures are drawn at its middle, so phase boundaries fall between points.
  const t = secs.map((s) => s.t + 0.5);
  const pct = secs.map((s) => (s.latency ? summarize(decode(s.latency)) : undefined));
  const pick = (k: keyof LatencySummary) => pct.map((p) => (p ? Number(p[k].toFixed(3)) : null));
  const services = [...new Set(result.fleet.samples.flatMap((s) => Object.keys(s.services)))].sort();
  const start = Date.parse(result.startedAt);
  return {
    phases: result.profile.phases.map((p) => ({ name: p.name, start: p.startMs / 1000 })),
    end: result.profile.durationMs / 1000,
    rate: { t, scheduled: secs.map((s) => s.scheduled), achieved: secs.map((s) => s.started), requests: secs.map((s) => s.requests) },
    latency: { t, p50: pick('p50'), p95: pick('p95'), p99: pick('p99'), max: pick('max') },
    errors: { t, errors: secs.map((s) => s.errors), dropped: secs.map((s) => s.dropped) },
    fleet: {
      t: result.fleet.samples.map((s) => Number(s.t.toFixed(2))),
      services: Object.fromEntries(services.map((name) => [name, result.fleet.samples.map((s) => s.services[name]?.inService ?? 0)])),
      activities: result.fleet.activities.map((a) => ({ t: (Date.parse(a.time) - start) / 1000, service: a.service, from: a.from, to: a.to })),
    },
  };
}

function latencyCells(encoded: string | undefined): string {
  const s = encoded ? summarize(decode(encoded)) : undefined;
  if (!s || !s.count) return '<td>–</td><td>–</td><td>–</td><td>–</td>';
  return [s.p50, s.p95, s.p99, s.max].map((v) => `<td>${esc(formatMs(v))}</td>`).join('');
}

export function renderReport(result: RunResult): string {
  const rec = result.recording;
  const totals = Object.values(rec.endpoints).reduce((a, e) => ({ requests: a.requests + e.requests, errors: a.errors + e.errors }), { requests: 0, errors: 0 });
  const journeys = Object.values(rec.journeys).reduce(
    (a, j) => ({ started: a.started + j.started, completed: a.completed + j.completed, failed: a.failed + j.failed, dropped: a.dropped + j.dropped }),
    { started: 0, completed: 0, failed: 0, dropped: 0 },
  );
  const scheduled = result.phases.reduce((a, p) => a + p.scheduled, 0);
  const overall = rec.latency ? summarize(decode(rec.latency)) : undefined;
  const service = rec.serviceTime ? summarize(decode(rec.serviceTime)) : undefined;
  const duration = (Date.parse(result.endedAt) - Date.parse(result.startedAt)) / 1000;
  const { js, css } = uplot();
  const verdictRows = result.verdicts
    .map((v) => `<tr class="${v.ok ? 'pass' : 'fail'}"><td class="mark">${v.ok ? '✓ pass' : '✗ FAIL'}</td><td>${esc(v.label)}</td><td>${esc(v.measured)}</td><td class="path">${esc(v.path)}</td></tr>`)
    .join('');
  const endpointRows = Object.entries(rec.endpoints)
    .map(([name, e]) => {
      const statuses = Object.entries(e.statuses).sort().map(([k, n]) => `${k}×${n}`).join(' ');
      return `<tr><td>${esc(name)}</td><td>${e.requests}</td><td>${e.errors} (${esc(formatPercent(e.requests ? e.errors / e.requests : 0))})</td>${latencyCells(e.latency)}<td>${esc(e.serviceTime ? formatMs(summarize(decode(e.serviceTime)).p99) : '–')}</td><td class="small">${esc(statuses)}</td></tr>`;
    })
    .join('');
  const journeyRows = Object.entries(rec.journeys)
    .map(([name, j]) => `<tr><td>${esc(name)}</td><td>${j.started}</td><td>${j.completed}</td><td>${j.failed}</td><td>${j.dropped}</td>${latencyCells(j.duration)}</tr>`)
    .join('');
  const phaseRows = result.phases
    .map(
      (p) =>
        `<tr><td>${esc(p.name)}</td><td>${esc(formatSeconds(p.startMs / 1000))}</td><td>${esc(formatSeconds(p.durationMs / 1000))}</td><td>${p.rate === p.rampTo ? p.rate : `${p.rate} → ${p.rampTo}`}</td><td>${p.scheduledRate.toFixed(1)}</td><td>${p.achievedRate.toFixed(1)}</td><td>${esc(formatPercent(p.scheduled ? p.started / p.scheduled : 1))}</td><td>${p.dropped}</td></tr>`,
    )
    .join('');
  const oversell = result.oversell
    ? `<h2>Oversell check</h2>${result.oversell.error ? `<p class="fail">${esc(result.oversell.error)}</p>` : ''}<table><tr><th>sku</th><th>stock before</th><th>stock after</th><th>decrease</th><th>units sold</th><th>unanswered (may have sold)</th></tr>${result.oversell.skus
        .map((s) => {
          const dec = s.before !== null && s.after !== null ? s.before - s.after : null;
          return `<tr class="${balanced(s) ? '' : 'fail'}"><td>${esc(s.sku)}</td><td>${s.before ?? '?'}</td><td>${s.after ?? '?'}</td><td>${dec ?? '?'}</td><td>${s.sold}</td><td>${s.unanswered ?? 0}</td></tr>`;
        })
        .join('')}</table>`
    : '';
  const activities = result.fleet.activities.length
    ? `<h3>Scaling activities</h3><table><tr><th>time</th><th>service</th><th>from → to</th><th>cause</th></tr>${result.fleet.activities
        .map((a) => `<tr><td>${esc(formatSeconds((Date.parse(a.time) - Date.parse(result.startedAt)) / 1000))}</td><td>${esc(a.service)}</td><td>${a.from} → ${a.to}</td><td class="small">${esc(a.cause)}</td></tr>`)
        .join('')}</table>`
    : '';
  const generators = result.generators?.length
    ? `<h2>Generators</h2><table id="generators"><tr><th>generator</th><th>where</th><th>state</th><th>journeys started / scheduled</th><th>dropped</th><th>requests</th><th>requests/s</th><th>errors</th></tr>${result.generators
        .map(
          (g) =>
            `<tr class="${g.state === 'ok' ? '' : 'fail'}"><td>${esc(g.shard)}</td><td>${esc(g.where)}</td><td>${esc(g.state)}${g.error ? `<div class="small">${esc(g.error)}</div>` : ''}</td><td>${g.started} / ${g.scheduled} (${esc(formatPercent(g.scheduled ? g.started / g.scheduled : 1))})</td><td>${g.dropped}</td><td>${g.requests}</td><td>${g.requestRate.toFixed(1)}</td><td>${g.errors}</td></tr>`,
        )
        .join('')}</table>`
    : '';
  const fleetNote = result.fleet.probe ? `Watched: ${esc(result.fleet.probe)}.` : 'No scaling probe for this target (a URL): run against <code>--target local</code> or an aws inventory to see the fleet.';
  const probeErrors = result.fleet.errors.length ? `<p class="fail">Probe errors: ${result.fleet.errors.map(esc).join('; ')}</p>` : '';

  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(result.profile.name)} — ${result.passed ? 'PASS' : 'FAIL'} — saleday loadtest</title>
<style>${css}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 auto;max-width:1200px;padding:16px 24px;color:#1d232a;background:#fff}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #dde2e8;padding-bottom:4px}h3{font-size:15px;margin:18px 0 6px}
.badge{display:inline-block;padding:2px 12px;border-radius:4px;color:#fff;font-weight:700;margin-left:8px;vertical-align:middle}
.badge.pass{background:#1f883d}.badge.fail{background:#cf222e}
.meta{color:#57606a}table{border-collapse:collapse;width:100%;margin:6px 0}th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #eaeef2;vertical-align:top}
th{background:#f6f8fa;font-weight:600}tr.fail td{background:#ffebe9}tr.pass td.mark{color:#1f883d;font-weight:700}tr.fail td.mark{color:#cf222e;font-weight:700}
td.path,.small{color:#57606a;font-size:12px}p.fail{color:#cf222e}.chart{margin:8px 0 18px}.chart .title{font-weight:600;margin-bottom:2px}
.note{color:#57606a;font-size:13px}.empty{padding:40px;color:#57606a;border:1px dashed #d0d7de;text-align:center}
.kpis{display:flex;gap:24px;flex-wrap:wrap;margin:10px 0}.kpi b{display:block;font-size:20px}
</style></head>
<body data-charts-ready="0">
<h1>${esc(result.profile.name)} <span class="badge ${result.passed ? 'pass' : 'fail'}">${result.passed ? 'PASS' : 'FAIL'}</span></h1>
<div class="meta">${esc(result.profile.description)}<br>Target ${esc(result.target.url)} (${esc(result.target.label)}) · started ${esc(result.startedAt)} · ${esc(formatSeconds(duration))} · ${result.processes.length} process${result.processes.length > 1 ? `es (shards ${result.processes.map((p) => esc(p.shard)).join(', ')})` : ''} · run ${esc(result.runId)}</div>
${result.aborted ? `<p class="fail">Aborted at ${result.aborted.atS.toFixed(0)} s: ${esc(result.aborted.reason)}</p>` : ''}
<h2>Verdict</h2>
<table id="verdicts"><tr><th></th><th>threshold</th><th>measured</th><th>where</th></tr>${verdictRows || '<tr><td colspan="4">The profile has no thresholds.</td></tr>'}</table>
<div class="kpis">
<div class="kpi"><b>${journeys.started} / ${scheduled}</b>journeys started / scheduled</div>
<div class="kpi"><b>${totals.requests}</b>requests</div>
<div class="kpi"><b>${esc(formatPercent(totals.requests ? totals.errors / totals.requests : 0))}</b>errors (${totals.errors})</div>
<div class="kpi"><b>${overall?.count ? esc(formatMs(overall.p99)) : '–'}</b>p99 from intended start</div>
<div class="kpi"><b>${service?.count ? esc(formatMs(service.p99)) : '–'}</b>p99 from the write</div>
<div class="kpi"><b>${journeys.dropped}</b>journeys dropped</div>
</div>
<h2>Over time</h2>
<div class="chart" id="chart-rate" data-chart="rate"><div class="title">Journeys started per second: scheduled against achieved (and requests per second)</div></div>
<div class="chart" id="chart-latency" data-chart="latency"><div class="title">Latency percentiles per second, measured from each request's intended start (ms, log scale)</div></div>
<div class="chart" id="chart-errors" data-chart="errors"><div class="title">Errors and dropped journeys per second</div></div>
<div class="chart" id="chart-fleet" data-chart="fleet"><div class="title">Instances in service per service</div></div>
<p class="note">${fleetNote} Dashed lines mark where each phase begins.</p>${probeErrors}
<h2>Phases</h2>
<table><tr><th>phase</th><th>start</th><th>duration</th><th>rate (journeys/s)</th><th>scheduled/s</th><th>achieved/s</th><th>achieved</th><th>dropped</th></tr>${phaseRows}</table>
${generators}
<h2>Endpoints</h2>
<table><tr><th>endpoint</th><th>requests</th><th>errors</th><th>p50</th><th>p95</th><th>p99</th><th>max</th><th>p99 from write</th><th>statuses</th></tr>${endpointRows}</table>
<h2>Journeys</h2>
<table><tr><th>journey</th><th>started</th><th>completed</th><th>failed</th><th>dropped</th><th>p50</th><th>p95</th><th>p99</th><th>max</th></tr>${journeyRows}</table>
${oversell}
${activities}
<h2>How this was measured</h2>
<p class="note">Open model: journeys start on the profile's schedule whether or not earlier ones have been answered; at most ${result.profile.maxInFlight} requests are in flight (autocannon connections) and requests beyond that wait in a queue (journeys are dropped, and counted, past ${result.profile.maxQueued} waiting requests). Latency runs from each request's intended start — the schedule's time for a journey's first step, the previous step's answer plus its pause for later ones — so time spent waiting on a stalled shop counts (no coordinated omission). Histograms are HDR at microsecond resolution; shards merge exactly.</p>
<script>${js.replace(/<\/script/gi, '<\\/script')}</script>
<script type="application/json" id="chart-data">${scriptJson(chartData(result))}</script>
<script>${CHART_SCRIPT}</script>
</body></html>
`;
}

// Runs in the page: draws the four charts with uPlot and marks the phase boundaries.
const CHART_SCRIPT = `
(function () {
  var data = JSON.parse(document.getElementById('chart-data').textContent);
  var ready = 0;
  function clock(v) { v = Math.max(0, Math.round(v)); var m = Math.floor(v / 60), s = v % 60; return (m < 10 ? '0' : '') + m + ':' + (s < 10 ? '0' : '') + s; }
  var phasePlugin = { hooks: { draw: [function (u) {
    var ctx = u.ctx; ctx.save(); ctx.strokeStyle = '#8c959f'; ctx.fillStyle = '#57606a'; ctx.setLineDash([5, 4]); ctx.lineWidth = 1;
    ctx.font = (11 * devicePixelRatio) + 'px system-ui, sans-serif'; ctx.textBaseline = 'top';
    data.phases.concat([{ name: 'end', start: data.end }]).forEach(function (p) {
      var x = Math.round(u.valToPos(p.start, 'x', true)) + 0.5;
      if (x < u.bbox.left - 1 || x > u.bbox.left + u.bbox.width + 1) return;
      ctx.beginPath(); ctx.moveTo(x, u.bbox.top); ctx.lineTo(x, u.bbox.top + u.bbox.height); ctx.stroke();
      ctx.fillText(p.name, x + 4, u.bbox.top + 2);
    });
    ctx.restore();
  }], ready: [function () { ready++; document.body.dataset.chartsReady = String(ready); }] } };
  // whole seconds only on the time axis
  var xAxis = { values: function (u, vs) { return vs.map(clock); }, incrs: [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200] };
  function width(el) { return Math.max(400, el.clientWidth || 1100); }
  function empty(el, text) { var d = document.createElement('div'); d.className = 'empty'; d.textContent = text; el.appendChild(d); ready++; document.body.dataset.chartsReady = String(ready); }
  function chart(id, series, cols, opts) {
    var el = document.getElementById(id);
    if (!cols[0].length) return empty(el, 'no data');
    var o = Object.assign({ width: width(el), height: 280, plugins: [phasePlugin], scales: { x: { time: false, range: function (u, min, max) { return [0, Math.max(max, data.end)]; } } },
      axes: [xAxis, { size: 60 }], series: [{ label: 'time', value: function (u, v) { return v == null ? '' : clock(v); } }].concat(series) }, opts || {});
    return new uPlot(o, cols, el);
  }
  chart('chart-rate', [
    { label: 'scheduled journeys/s', stroke: '#6e7781', dash: [6, 4], width: 2 },
    { label: 'achieved journeys/s', stroke: '#0969da', width: 2 },
    { label: 'requests/s', stroke: '#1f883d', width: 1, scale: 'req' }
  ], [data.rate.t, data.rate.scheduled, data.rate.achieved, data.rate.requests], { axes: [xAxis, { size: 60, label: 'journeys/s' }, { side: 1, scale: 'req', size: 60, grid: { show: false }, label: 'requests/s' }] });
  chart('chart-latency', [
    { label: 'p50 ms', stroke: '#1f883d', width: 2, spanGaps: false },
    { label: 'p95 ms', stroke: '#bf8700', width: 2 },
    { label: 'p99 ms', stroke: '#cf222e', width: 2 },
    { label: 'max ms', stroke: '#8250df', width: 1, dash: [2, 3] }
  ], [data.latency.t, data.latency.p50, data.latency.p95, data.latency.p99, data.latency.max], { scales: { x: { time: false, range: function (u, min, max) { return [0, Math.max(max, data.end)]; } }, y: { distr: 3 } } });
  chart('chart-errors', [
    { label: 'errors/s', stroke: '#cf222e', fill: 'rgba(207,34,46,0.15)', width: 2 },
    { label: 'dropped journeys/s', stroke: '#8250df', width: 2 }
  ], [data.errors.t, data.errors.errors, data.errors.dropped]);
  var palette = ['#0969da', '#cf222e', '#1f883d', '#bf8700', '#8250df', '#1b7c83', '#e16f24'];
  var names = Object.keys(data.fleet.services);
  if (!names.length) empty(document.getElementById('chart-fleet'), 'no scaling probe for this target');
  else chart('chart-fleet', names.map(function (n, i) { return { label: n, stroke: palette[i % palette.length], width: 2, paths: uPlot.paths.stepped({ align: 1 }) }; }),
    [data.fleet.t].concat(names.map(function (n) { return data.fleet.services[n]; })), { scales: { x: { time: false, range: function (u, min, max) { return [0, Math.max(max, data.end)]; } }, y: { range: function (u, min, max) { return [0, Math.max(2, max + 1)]; } } } });
})();
`;
