// The units profiles are written in: durations ("90s", "2m", "500ms" or a number of seconds),
// latencies ("250ms", "1.5s" or a number of milliseconds) and ratios ("1%", "95%" or a fraction).
// Each parser returns undefined for anything it does not understand so that the profile loader
// can name the path and the fix.

const DURATION = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)$/;
const FACTOR: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** A duration in milliseconds; a bare number means seconds. */
export function parseDuration(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value * 1000 : undefined;
  if (typeof value !== 'string') return undefined;
  const m = DURATION.exec(value.trim());
  return m ? Number(m[1]) * FACTOR[m[2]!]! : undefined;
}

/** A latency in milliseconds; a bare number means milliseconds. */
export function parseLatency(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 ? value : undefined;
  return parseDuration(value);
}

/** A ratio from 0 to 1: "2.5%" or a fraction such as 0.025. */
export function parseRatio(value: unknown): number | undefined {
  if (typeof value === 'number') return value >= 0 && value <= 1 ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const m = /^(\d+(?:\.\d+)?)\s*%$/.exec(value.trim());
  if (!m) return undefined;
  const n = Number(m[1]) / 100;
  return n <= 1 ? n : undefined;
}

export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  if (ms >= 1000) return `${(ms / 1000).toFixed(ms >= 10_000 ? 1 : 2)} s`;
  if (ms >= 10) return `${ms.toFixed(1)} ms`;
  return `${ms.toFixed(3)} ms`;
}

export function formatPercent(ratio: number): string {
  return `${(ratio * 100).toFixed(ratio < 0.01 && ratio > 0 ? 3 : 2)}%`;
}

export function formatSeconds(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const m = Math.floor(s / 60);
  return `${String(m).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}
