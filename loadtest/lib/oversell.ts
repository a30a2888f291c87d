// The oversell check: the shop must sell exactly what it has. Stock of the watched skus (the hot
// set by default) is read before the run and after it; the units the harness's successful sale
// steps bought must equal the stock decrease, and stock must never be negative. A checkout that
// got no answer (a timeout, a reset) or a 5xx may still have been placed, so the decrease may
// exceed the answered sales by at most those units, never more and never fall short. After the run the
// check polls until the two agree or the settle time passes (a reservation held by a failed
// checkout is released by the shop's sweeper, not at once).
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { hotSkus, type FeederSpec } from './feeders/index.js';
import type { OversellCheck } from './profile/types.js';
import type { OversellResult } from './result.js';
import { fillPlaceholders } from './placeholders.js';
import { balanced } from './thresholds/oversell.js';

export function watchedSkus(check: OversellCheck, feeders: Record<string, FeederSpec>): string[] {
  if (check.skus !== 'hot') return check.skus;
  const spec = feeders[check.feeder];
  return spec?.type === 'skus' ? hotSkus(spec) : [];
}

export async function readStock(baseUrl: string, check: OversellCheck, skus: string[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const sku of skus) {
    const path = fillPlaceholders(check.stockPath, (ref) => (ref[0] === 'sku' ? sku : ''), encodeURIComponent);
    const res = await fetch(new URL(path, baseUrl), { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(10_000) });
    const text = await res.text();
    if (!res.ok) throw new Error(`GET ${path} answered ${res.status}`);
    let value: unknown;
    try {
      value = (JSON.parse(text) as Record<string, unknown>)[check.availableField];
    } catch {
      throw new Error(`GET ${path} did not answer JSON`);
    }
    if (typeof value !== 'number') throw new Error(`GET ${path} has no numeric "${check.availableField}"`);
    out.set(sku, value);
  }
  return out;
}

export interface OversellWatch {
  skus: string[];
  before: Map<string, number> | undefined;
  readBefore: string;
  error: string | undefined;
}

export async function before(baseUrl: string, check: OversellCheck, skus: string[]): Promise<OversellWatch> {
  const readBefore = new Date().toISOString();
  try {
    return { skus, before: await readStock(baseUrl, check, skus), readBefore, error: undefined };
  } catch (err) {
    return { skus, before: undefined, readBefore, error: (err as Error).message };
  }
}

/** Reads stock after the run; with `settle`, polls until it matches the sales or settleMs passes. */
export async function after(
  baseUrl: string,
  check: OversellCheck,
  watch: OversellWatch,
  sales: { sold: Record<string, number>; unanswered: Record<string, number> },
  settle: boolean,
): Promise<OversellResult> {
  const row = (sku: string, after: Map<string, number> | undefined) => ({
    sku,
    before: watch.before?.get(sku) ?? null,
    after: after?.get(sku) ?? null,
    sold: sales.sold[sku] ?? 0,
    unanswered: sales.unanswered[sku] ?? 0,
  });
  const result = (after: Map<string, number> | undefined, error: string | undefined): OversellResult => ({
    skus: watch.skus.map((sku) => row(sku, after)),
    error,
    readBefore: watch.readBefore,
    readAfter: new Date().toISOString(),
  });
  if (!watch.before) return result(undefined, watch.error);
  const deadline = performance.now() + (settle ? check.settleMs : 0);
  for (;;) {
    let stock: Map<string, number>;
    try {
      stock = await readStock(baseUrl, check, watch.skus);
    } catch (err) {
      return result(undefined, (err as Error).message);
    }
    if (watch.skus.every((sku) => balanced(row(sku, stock))) || performance.now() >= deadline) return result(stock, undefined);
    await delay(500);
  }
}
