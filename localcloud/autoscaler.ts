// Target tracking on CPU for every group: samples each warmed worker's CPU time every tick,
// keeps an evaluation window of samples per worker, and asks the group to scale when
// decideScaling says so. Groups whose policy names requestsPerTarget are also tracked on the
// gateway's requests to them (the ASG's second policy, ALBRequestCountPerTarget). A group busy with a launch, drain or rollout is left alone that tick
// (an ASG suspends scaling during a rolling update too).
import { CpuHistory, forgetCpuTimes, readCpuTimes } from './cpu-metric.js';
import { RequestHistory } from './request-metric.js';
import type { ServiceGroup } from './service-group.js';
import { decideScaling, type ScalingDecision } from './target-tracking.js';

export interface AutoscalerOptions {
  groups(): Iterable<ServiceGroup>;
  sampleIntervalMs(): number;
  /** Cumulative requests the gateway has sent to each service's group (absent or failing: CPU alone). */
  requestTotals?(): Promise<Map<string, number>>;
  onDecision?(service: string, decision: ScalingDecision, metric: number | undefined): void;
}

export class Autoscaler {
  private readonly history = new CpuHistory();
  private readonly requests = new RequestHistory();
  private readonly known = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private ticks = 0;

  constructor(private readonly opts: AutoscalerOptions) {}

  start(): void {
    if (this.timer || this.running) return;
    this.running = true;
    this.schedule();
  }

  stop(): void {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(): void {
    if (!this.running) return;
    this.timer = setTimeout(() => {
      this.tick().then(
        () => this.schedule(),
        () => this.schedule(),
      );
    }, this.opts.sampleIntervalMs());
  }

  /** One sampling and evaluation round (exported for the supervisor's tests through start()). */
  async tick(): Promise<void> {
    const now = Date.now();
    const groups = [...this.opts.groups()];
    const warmed = groups.flatMap((g) =>
      g.active.filter((w) => w.state === 'in-service' && w.inServiceAt !== undefined && now - w.inServiceAt >= g.policy.warmupSeconds * 1000),
    );
    const times = await readCpuTimes(warmed.map((w) => w.pid));
    const live = new Set<string>();
    for (const w of warmed) {
      const sample = times.get(w.pid);
      const g = groups.find((x) => x.name === w.service);
      if (!sample || !g) continue;
      live.add(w.id);
      this.history.record(w.id, sample, g.policy.evaluationSeconds * 1000 + 2 * this.opts.sampleIntervalMs());
    }
    for (const id of this.known) if (!live.has(id)) this.history.forget(id);
    this.known.clear();
    for (const id of live) this.known.add(id);
    if (++this.ticks % 60 === 0) forgetCpuTimes();
    const tracksRequests = groups.some((g) => g.policy.requestsPerTarget !== undefined);
    const totals = tracksRequests && this.opts.requestTotals ? await this.opts.requestTotals().catch(() => undefined) : undefined;
    const countedAt = Date.now();
    for (const g of groups) {
      const total = totals?.get(g.name);
      if (total !== undefined) this.requests.record(g.name, total, countedAt, g.policy.evaluationSeconds * 1000 + 2 * this.opts.sampleIntervalMs());
    }

    for (const g of groups) {
      if (g.busy || g.stopped) continue;
      const ids = g.active.filter((w) => live.has(w.id)).map((w) => w.id);
      const { metric, contributing } = this.history.groupAverage(ids, g.policy.evaluationSeconds * 1000, this.opts.sampleIntervalMs() / 2);
      const decision = decideScaling(g.policy, {
        desired: g.desired,
        contributing: contributing.length,
        warming: Math.max(g.desired, g.size) - contributing.length,
        metric,
        requestsPerMinute: this.requests.perMinute(g.name, g.policy.evaluationSeconds * 1000, this.opts.sampleIntervalMs() / 2),
        lastScalingAt: g.lastScalingAt,
        now,
      });
      this.opts.onDecision?.(g.name, decision, metric);
      if (decision.action !== 'none') g.scaleTo(decision.to, decision.cause);
    }
  }
}
