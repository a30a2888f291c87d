// Active health checks of one target, like a target group's: GET <path> every interval; a new
// target is healthy at its first 200 (polled quickly while it starts), a healthy one turns
// unhealthy after `unhealthyThreshold` failures in a row and healthy again after
// `healthyThreshold` successes in a row.
import { request } from 'node:http';

export interface HealthCheckOptions {
  host: string;
  port: number;
  path: string;
  intervalMs: number;
  /** Poll period while the target has not answered yet. */
  startIntervalMs: number;
  timeoutMs: number;
  healthyThreshold: number;
  unhealthyThreshold: number;
  onChange(healthy: boolean): void;
}

export class HealthCheck {
  healthy = false;
  private seenHealthy = false;
  private successes = 0;
  private failures = 0;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly opts: HealthCheckOptions) {
    this.schedule(0);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  /** A passive signal from the proxy (connection refused): out of rotation at once. */
  markFailed(): void {
    this.successes = 0;
    this.failures = this.opts.unhealthyThreshold;
    this.set(false);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.probe(), ms);
    this.timer.unref();
  }

  private async probe(): Promise<void> {
    const ok = await probeOnce(this.opts.host, this.opts.port, this.opts.path, this.opts.timeoutMs);
    if (this.stopped) return;
    if (ok) {
      this.failures = 0;
      this.successes++;
      if (!this.healthy && (!this.seenHealthy || this.successes >= this.opts.healthyThreshold)) this.set(true);
    } else {
      this.successes = 0;
      this.failures++;
      if (this.healthy && this.failures >= this.opts.unhealthyThreshold) this.set(false);
    }
    this.schedule(this.seenHealthy ? this.opts.intervalMs : this.opts.startIntervalMs);
  }

  private set(healthy: boolean): void {
    if (healthy) this.seenHealthy = true;
    if (this.healthy === healthy) return;
    this.healthy = healthy;
    this.opts.onChange(healthy);
  }
}

export function probeOnce(host: string, port: number, path: string, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host, port, path, method: 'GET', agent: false, timeout: timeoutMs, headers: { 'user-agent': 'saleday-gateway-health' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode === 200));
      res.on('error', () => resolve(false));
    });
    req.on('timeout', () => req.destroy(new Error('health check timed out')));
    req.on('error', () => resolve(false));
    req.end();
  });
}
