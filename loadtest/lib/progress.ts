// Live terminal progress. On a TTY one status line is redrawn every second; elsewhere (CI logs)
// a status line is printed every 10 seconds so logs stay readable. Permanent lines (phase
// changes, warnings) are printed above the status line.
import type { FleetSize } from './probes/probe.js';
import { formatMs, formatSeconds } from './units.js';

export interface Status {
  phase: string;
  phaseIndex: number;
  phases: number;
  elapsedS: number;
  totalS: number;
  scheduledRate: number;
  achievedRate: number;
  requestsRate: number;
  p99Ms: number | undefined;
  errors: number;
  requests: number;
  inFlight: number;
  queued: number;
  dropped: number;
  fleet: Record<string, FleetSize> | undefined;
  /** the last second's latency histogram, encoded (for a parent that merges several generators' views) */
  latency?: string | undefined;
  /** how many generators this line sums, when more than one */
  generators?: { running: number; count: number } | undefined;
}

export function formatStatus(s: Status): string {
  const fleet = s.fleet
    ? ' │ ' + Object.entries(s.fleet).map(([name, f]) => `${name} ${f.inService}/${f.desired}`).join(' ')
    : '';
  const errRate = s.requests ? ((s.errors / s.requests) * 100).toFixed(2) : '0.00';
  return (
    `[${s.phase} ${s.phaseIndex + 1}/${s.phases} ${formatSeconds(s.elapsedS)}/${formatSeconds(s.totalS)}] ` +
    `journeys ${s.achievedRate.toFixed(0)}/${s.scheduledRate.toFixed(0)} per s │ ${s.requestsRate.toFixed(0)} req/s │ ` +
    `p99 ${s.p99Ms === undefined ? '–' : formatMs(s.p99Ms)} │ errors ${s.errors} (${errRate}%) │ ` +
    `in flight ${s.inFlight} queued ${s.queued}${s.dropped ? ` dropped ${s.dropped}` : ''}${fleet}` +
    (s.generators ? ` │ generators ${s.generators.running}/${s.generators.count}` : '')
  );
}

export class Progress {
  private lastPrinted = 0;
  private drawn = false;

  constructor(
    private readonly out: NodeJS.WritableStream & { isTTY?: boolean; columns?: number } = process.stderr,
    private readonly quiet = false,
  ) {}

  /** A line that stays. */
  line(text: string): void {
    if (this.quiet) return;
    this.clear();
    this.out.write(`${text}\n`);
  }

  /** The status line: redrawn on a TTY, printed every 10 s elsewhere. */
  status(text: string, now = Date.now()): void {
    if (this.quiet) return;
    if (this.out.isTTY) {
      const width = this.out.columns ?? 160;
      this.out.write(`\r\x1b[2K${text.length > width ? `${text.slice(0, width - 1)}…` : text}`);
      this.drawn = true;
    } else if (now - this.lastPrinted >= 10_000) {
      this.out.write(`${text}\n`);
      this.lastPrinted = now;
    }
  }

  /** The run's status once a second (a generator's relay overrides this to pass it on whole). */
  update(s: Status): void {
    this.status(formatStatus(s));
  }

  clear(): void {
    if (this.drawn) {
      this.out.write('\r\x1b[2K');
      this.drawn = false;
    }
  }
}
