// How long rendering every stack of one environment takes (production: nine templates, objects and
// YAML). Baseline, measured in the same run: writing the same, already-built template objects as
// YAML, which is most of the work; the ratio shows what the renderers add on top. The target is an
// absolute one (well under a second), so the result also carries budgetMs = 1000.
import { fileURLToPath } from 'node:url';
import { loadEnvironment } from '../environment/index.js';
import { renderEnvironment, renderStacks } from '../cloudformation/index.js';
import { toYaml } from '../cloudformation/lib/template.js';
import { benchPairs, benchSeconds, median, writeResult, type BenchResult } from './lib.js';
import type { Benchmark } from './run.js';

const BUDGET_MS = 1000;

export const renderBench: Benchmark = {
  name: 'render',
  description: 'render every CloudFormation stack of production (objects + YAML) vs YAML of pre-built templates',
  async run(): Promise<BenchResult[]> {
    const inv = await loadEnvironment(fileURLToPath(new URL('../../playbooks/inventories/production.yaml', import.meta.url)));
    const prebuilt = renderStacks(inv).map((s) => s.template);
    const subject = () => renderEnvironment(inv).length;
    const baseline = () => prebuilt.map((t) => toYaml(t)).length;
    for (let i = 0; i < 3; i++) {
      // warm up the JIT before measuring
      subject();
      baseline();
    }

    const pairs = benchPairs(5);
    const roundMs = (benchSeconds(10) * 1000) / (2 * pairs);
    const s: number[] = [];
    const b: number[] = [];
    const time = (fn: () => number, into: number[]) => {
      const end = performance.now() + roundMs;
      do {
        const start = performance.now();
        fn();
        into.push(performance.now() - start);
      } while (performance.now() < end);
    };
    for (let i = 0; i < pairs; i++) {
      const before = [s.length, b.length];
      // Alternate which goes first so drift on a shared machine hits both alike.
      if (i % 2 === 0) {
        time(subject, s);
        time(baseline, b);
      } else {
        time(baseline, b);
        time(subject, s);
      }
      process.stdout.write(`  round ${i + 1}/${pairs}: render ${median(s.slice(before[0])).toFixed(1)} ms vs YAML only ${median(b.slice(before[1])).toFixed(1)} ms\n`);
    }
    const p99 = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.min(xs.length - 1, Math.floor(xs.length * 0.99))]!;
    const value = median(s);
    const base = median(b);
    const result: BenchResult = {
      name: 'render-production',
      value,
      baseline: base,
      ratio: value / base,
      unit: 'ms per environment',
      p99: p99(s),
      baselineP99: p99(b),
      budgetMs: BUDGET_MS,
      withinBudget: p99(s) < BUDGET_MS,
      stacks: prebuilt.length,
      samples: s.length,
    };
    await writeResult(result);
    return [result];
  },
};
