// What the sliding-window thresholds share: the per-second records of the run (one endpoint's or
// all requests'), summed exactly over every window of W seconds (HDR histograms add, so a
// window's percentile is that of every request that ended in it, never an average of seconds'
// percentiles), and the wording of a window's place in the run.
import type { Histogram } from 'hdr-histogram-js';
import { Type } from '@sinclair/typebox';
import { Dur } from '../profile/shapes.js';
import { decode, newHistogram, type SecondRecord } from '../recorder.js';
import { formatSeconds } from '../units.js';
import type { ThresholdSite } from './kind.js';

export const WindowProps = {
  window: Dur('the window length; the threshold holds over every window of this length in the run'),
  endpoint: Type.Optional(Type.String({ description: 'an endpoint name as the steps define it, e.g. GET /api/catalog/products/:sku (all requests when left out)' })),
};

/** Window length in whole seconds (at least 1), with a problem when it is not a duration. */
export function compileWindow(raw: string | number, site: ThresholdSite): number {
  const ms = site.compiler.duration(raw, [...site.at, 'window'], 'the window', true);
  if (ms > 0 && ms % 1000 !== 0) site.compiler.add([...site.at, 'window'], `is ${ms} ms: windows slide by whole seconds`, 'write a whole number of seconds, e.g. window: 60s');
  return Math.max(1, Math.round(ms / 1000));
}

/** One window's figures. */
export interface WindowFigures {
  /** first second of the window (seconds since the start) */
  from: number;
  /** the second after its last */
  to: number;
  requests: number;
  errors: number;
  /** the latency of every request that ended in the window (µs), when asked for */
  latency: Histogram | undefined;
}

function part(s: SecondRecord, endpoint: string | undefined): { requests: number; errors: number; latency: string } | undefined {
  if (!endpoint) return s;
  return s.endpoints[endpoint];
}

/**
 * Every window of `width` seconds over `seconds`, sliding by one second, in order; a run shorter
 * than the window is one window. `visit` returns true to stop early. With `withLatency` the
 * window's histogram is kept by adding the second that enters and subtracting the one that leaves.
 */
export function slide(seconds: readonly SecondRecord[], width: number, endpoint: string | undefined, withLatency: boolean, visit: (w: WindowFigures) => boolean | void): void {
  if (!seconds.length) return;
  const n = seconds.length;
  const w = Math.min(width, n);
  const decoded = new Map<number, Histogram>();
  const hist = (i: number): Histogram | undefined => {
    const p = part(seconds[i]!, endpoint);
    if (!p?.latency) return undefined;
    let h = decoded.get(i);
    if (!h) {
      h = decode(p.latency);
      decoded.set(i, h);
    }
    return h;
  };
  const acc = withLatency ? newHistogram() : undefined;
  let requests = 0;
  let errors = 0;
  for (let i = 0; i < n; i++) {
    const p = part(seconds[i]!, endpoint);
    requests += p?.requests ?? 0;
    errors += p?.errors ?? 0;
    if (acc) {
      const h = hist(i);
      if (h) acc.add(h);
    }
    const leaving = i - w;
    if (leaving >= 0) {
      const q = part(seconds[leaving]!, endpoint);
      requests -= q?.requests ?? 0;
      errors -= q?.errors ?? 0;
      if (acc) {
        const h = hist(leaving);
        if (h) acc.subtract(h);
      }
      decoded.delete(leaving);
    }
    if (i >= w - 1 && visit({ from: i - w + 1, to: i + 1, requests, errors, latency: acc })) return;
  }
}

/** The last whole window of closed seconds (for judging during the run), or undefined before it has passed. */
export function lastWindow(seconds: readonly SecondRecord[], width: number, endpoint: string | undefined, withLatency: boolean): WindowFigures | undefined {
  if (seconds.length < width) return undefined;
  let out: WindowFigures | undefined;
  slide(seconds.slice(seconds.length - width), width, endpoint, withLatency, (w) => {
    out = { ...w, from: w.from + seconds.length - width, to: w.to + seconds.length - width };
  });
  return out;
}

/** `01:00–02:00` */
export const windowAt = (w: { from: number; to: number }): string => `${formatSeconds(w.from)}–${formatSeconds(w.to)}`;
