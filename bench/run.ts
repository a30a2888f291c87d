// `npm run bench`: runs every benchmark (or those named on the command line) one after another,
// prints the figures and writes build/bench/<name>.json for each comparison.
import type { BenchResult } from './lib.js';

export interface Benchmark {
  name: string;
  description: string;
  run(): Promise<BenchResult[]>;
}

// Each benchmark module registers here, in the order they run.
const benchmarks: Array<() => Promise<Benchmark>> = [
  () => import('./render.js').then((m) => m.renderBench),
  () => import('./inventory.js').then((m) => m.inventoryBenchmark),
  () => import('./catalog.js').then((m) => m.catalogBenchmark),
  () => import('./loadtest.js').then((m) => m.loadtestBenchmark),
  () => import('./checkout.js').then((m) => m.checkoutBenchmark),
  () => import('./gateway.js').then((m) => m.gatewayBenchmark),
];

const only = process.argv.slice(2);
let failed = false;
for (const load of benchmarks) {
  const bench = await load();
  if (only.length && !only.includes(bench.name)) continue;
  process.stdout.write(`\n# ${bench.name}: ${bench.description}\n`);
  try {
    for (const r of await bench.run()) {
      process.stdout.write(`  ${r.name}: ${r.value.toFixed(1)} ${r.unit} vs baseline ${r.baseline.toFixed(1)} → ratio ${r.ratio.toFixed(2)}` +
        (r.p99 !== undefined ? `, p99 ${r.p99.toFixed(2)} ms vs ${r.baselineP99?.toFixed(2)} ms` : '') + '\n');
    }
  } catch (err) {
    failed = true;
    process.stderr.write(`  ${bench.name} failed: ${(err as Error).message}\n`);
  }
}
process.exitCode = failed ? 1 : 0;
