// One service's group of workers, the local Auto Scaling group: keeps `desired` workers running,
// replaces one that dies, scales to what the autoscaler asks, drains before it stops a worker
// (gateway first, then SIGTERM), and rolls to a new artifact one worker at a time (a new worker
// in service before an old one leaves, like a rolling update that keeps capacity).
// Every operation runs through one queue per group, so they never interleave.
import type { LocalActivity } from '../environment/index.js';
import { routesOf, launchSpecOf, type ScalingPolicy, type ServiceSpec, type Tuning } from './fleet-spec.js';
import { freePort } from './free-port.js';
import type { Gateway } from './gateway.js';
import { WorkerProcess, describeExit } from './worker-process.js';

export interface GroupContext {
  host: string;
  /** Added to every worker's environment (the shop's marker). */
  env: Readonly<Record<string, string>>;
  gateway: Gateway;
  tuning(): Tuning;
  logFd(service: string): number;
  logPath(service: string): string;
  activity(a: Omit<LocalActivity, 'time'>): void;
  /** Something shown in state.json changed. */
  changed(): void;
  /** A line of progress for whoever is deploying, and for the supervisor's log. */
  progress(service: string, message: string): void;
}

export class LaunchError extends Error {
  constructor(
    readonly service: string,
    message: string,
  ) {
    super(message);
    this.name = 'LaunchError';
  }
}

export type ApplyOutcome = 'created' | 'unchanged' | 'updated' | 'replaced';

let nextWorkerId = 1;

export class ServiceGroup {
  spec: ServiceSpec;
  desired: number;
  lastScalingAt: number | undefined;
  readonly workers = new Map<string, WorkerProcess>();
  stopped = false;
  private queue: Promise<unknown> = Promise.resolve();
  private pending = 0;
  private launchFailures = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  /** The policy as last applied by a deploy (desired is only re-applied when this changes). */
  private appliedPolicy: ScalingPolicy;

  constructor(
    readonly name: string,
    spec: ServiceSpec,
    private readonly ctx: GroupContext,
    /** The capacity the group had before the supervisor restarted (kept within min/max). */
    restoredDesired?: number,
  ) {
    this.spec = spec;
    this.appliedPolicy = spec.policy;
    this.desired = restoredDesired === undefined ? spec.policy.desired : Math.min(spec.policy.max, Math.max(spec.policy.min, restoredDesired));
  }

  get policy(): ScalingPolicy {
    return this.spec.policy;
  }

  /** True while an operation (launch, drain, rollout) is under way. */
  get busy(): boolean {
    return this.pending > 0;
  }

  /** Workers counted as capacity: starting or in service, not draining. */
  get active(): WorkerProcess[] {
    return [...this.workers.values()].filter((w) => w.alive && !w.retiring);
  }

  get size(): number {
    return this.active.length;
  }

  /** Starts the group at its desired capacity. */
  async create(): Promise<void> {
    this.ctx.activity({ service: this.name, from: 0, to: this.desired, cause: `deploy: group created with desired capacity ${this.desired} (min ${this.policy.min}, max ${this.policy.max})` });
    this.lastScalingAt = Date.now();
    await this.run(() => this.reconcile(true));
  }

  /** A deploy's view of the change: what it did, computed from a real comparison. */
  async apply(spec: ServiceSpec): Promise<ApplyOutcome> {
    return this.run(async () => {
      let outcome: ApplyOutcome = 'unchanged';
      const before = this.spec;
      const p = spec.policy;
      const a = this.appliedPolicy;
      if (p.min !== a.min || p.max !== a.max || p.desired !== a.desired) {
        // As CloudFormation does: a changed DesiredCapacity is applied; otherwise the scaled
        // capacity is kept, only brought within the new bounds.
        const to = p.desired !== a.desired ? p.desired : Math.min(p.max, Math.max(p.min, this.desired));
        if (to !== this.desired) {
          this.ctx.activity({ service: this.name, from: this.desired, to, cause: `deploy: capacity set to ${to} (min ${p.min}, desired ${p.desired}, max ${p.max})` });
          this.desired = to;
          this.lastScalingAt = Date.now();
        }
        outcome = 'updated';
      }
      if (JSON.stringify(p) !== JSON.stringify(a) || JSON.stringify(routesOf(this.name, spec)) !== JSON.stringify(routesOf(this.name, before))) outcome = 'updated';
      this.appliedPolicy = p;
      const relaunch = launchSpecOf(spec) !== launchSpecOf(before);
      this.spec = spec;
      this.ctx.changed();
      if (relaunch) {
        try {
          await this.rollingReplace(`rolling update to artifact ${short(spec.artifact)}`);
        } catch (err) {
          // Like an update rollback: back to what ran before, one worker at a time.
          this.spec = before;
          this.ctx.progress(this.name, `rolling update failed; rolling back: ${(err as Error).message}`);
          await this.rollingReplace(`rollback to artifact ${short(before.artifact)}`).catch(() => undefined);
          throw err;
        }
        outcome = 'replaced';
      }
      await this.reconcile(true);
      return outcome;
    });
  }

  /** Asked by the autoscaler; returns at once, the launches or the drain run in the queue. */
  scaleTo(to: number, cause: string): void {
    this.ctx.activity({ service: this.name, from: this.desired, to, cause });
    this.desired = to;
    this.lastScalingAt = Date.now();
    this.ctx.changed();
    void this.run(() => this.reconcile(false)).catch(() => undefined);
  }

  /** Drains and stops every worker (destroy, or the service left the inventory). */
  async stop(cause: string): Promise<void> {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.desired !== 0) this.ctx.activity({ service: this.name, from: this.desired, to: 0, cause });
    this.desired = 0;
    await this.run(async () => {
      await Promise.all([...this.workers.values()].map((w) => this.retire(w)));
    });
  }

  private run<T>(op: () => Promise<T>): Promise<T> {
    this.pending++;
    const result = this.queue.then(op);
    this.queue = result.then(
      () => this.pending--,
      () => this.pending--,
    );
    return result;
  }

  /**
   * Brings the number of workers to `desired`: launches the missing ones together, drains the
   * surplus one at a time. With `strict`, a failed launch throws (a deploy reports it); otherwise
   * it is retried later with a growing back-off.
   */
  private async reconcile(strict: boolean): Promise<void> {
    if (this.stopped) return;
    const missing = this.desired - this.size;
    if (missing > 0) {
      const results = await Promise.allSettled(Array.from({ length: missing }, () => this.launch()));
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) {
        this.launchFailures++;
        const reason = (failed.reason as Error).message;
        this.ctx.activity({ service: this.name, from: this.size, to: this.size, cause: `failed to launch a worker: ${reason}` });
        this.scheduleRetry();
        if (strict) throw failed.reason;
        return;
      }
      this.launchFailures = 0;
    }
    while (this.size > this.desired) {
      const victim = this.pickVictim();
      if (!victim) break;
      await this.retire(victim);
    }
  }

  private scheduleRetry(): void {
    if (this.retryTimer || this.stopped) return;
    const delay = Math.min(30_000, 1000 * 2 ** Math.min(5, this.launchFailures - 1));
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.run(() => this.reconcile(false)).catch(() => undefined);
    }, delay);
    this.retryTimer.unref();
  }

  /** Scale-in picks workers of an older launch first, then ones not yet in service, then the newest. */
  private pickVictim(): WorkerProcess | undefined {
    const current = launchSpecOf(this.spec);
    return this.active.sort((a, b) => {
      const rank = (w: WorkerProcess) => (w.launchSpec !== current ? 0 : w.state === 'starting' ? 1 : 2);
      return rank(a) - rank(b) || b.launchedAt - a.launchedAt;
    })[0];
  }

  /** Starts one worker and resolves once it passed its health check (throws if it never does). */
  private async launch(): Promise<WorkerProcess> {
    const t = this.ctx.tuning();
    const port = await freePort(this.ctx.host);
    const worker = new WorkerProcess({
      id: `${this.name}-${nextWorkerId++}`,
      service: this.name,
      program: this.spec.program,
      nodeArgs: this.spec.nodeArgs ?? [],
      args: this.spec.args ?? [],
      env: { ...this.spec.env, ...this.ctx.env },
      host: this.ctx.host,
      port,
      logFd: this.ctx.logFd(this.name),
      logPath: this.ctx.logPath(this.name),
      launchSpec: launchSpecOf(this.spec),
      artifact: this.spec.artifact,
    });
    this.workers.set(worker.id, worker);
    this.ctx.progress(this.name, `launching worker pid ${worker.pid} on port ${port}`);
    this.ctx.changed();

    let markReady: () => void = () => undefined;
    const ready = new Promise<void>((resolve) => (markReady = resolve));
    this.ctx.gateway.addTarget({
      id: worker.id,
      service: this.name,
      host: this.ctx.host,
      port,
      onHealth: (healthy) => {
        if (healthy && worker.state === 'starting') {
          worker.state = 'in-service';
          worker.inServiceAt = Date.now();
          this.ctx.changed();
          markReady();
        }
      },
    });
    void worker.exited.then(() => this.onExit(worker));

    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      ready.then(() => 'ready' as const),
      worker.exited.then(() => 'exited' as const),
      new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), t.startSeconds * 1000))),
    ]);
    clearTimeout(timer);
    if (outcome === 'ready') {
      this.ctx.progress(this.name, `worker pid ${worker.pid} in service after ${((Date.now() - worker.launchedAt) / 1000).toFixed(1)} s`);
      return worker;
    }
    worker.retiring = true;
    if (outcome === 'timeout') {
      worker.kill();
      await worker.exited;
      throw new LaunchError(this.name, `worker pid ${worker.pid} did not pass its health check within ${t.startSeconds} s${tail(worker)}`);
    }
    throw new LaunchError(this.name, `worker pid ${worker.pid} stopped before it was in service (${describeExit(worker.exit)})${tail(worker)}`);
  }

  /** Takes a worker out the way an ASG terminates one behind a target group. */
  private async retire(worker: WorkerProcess): Promise<void> {
    const t = this.ctx.tuning();
    worker.retiring = true;
    if (!worker.alive) return;
    worker.state = 'draining';
    this.ctx.changed();
    this.ctx.progress(this.name, `draining worker pid ${worker.pid}`);
    await this.ctx.gateway.drainTarget(worker.id, t.drainSeconds * 1000);
    const exit = await worker.stop(t.drainSeconds * 1000 + 5000);
    this.ctx.progress(this.name, `worker pid ${worker.pid} stopped (${describeExit(exit)})`);
  }

  private onExit(worker: WorkerProcess): void {
    this.ctx.gateway.removeTarget(worker.id);
    this.workers.delete(worker.id);
    this.ctx.changed();
    if (worker.retiring || this.stopped || worker.state === 'starting') return;
    // Died on its own: out of service at once, and a replacement brings the group back.
    const size = this.size;
    this.ctx.activity({
      service: this.name,
      from: size + 1,
      to: size,
      cause: `worker pid ${worker.pid} on port ${worker.port} exited unexpectedly (${describeExit(worker.exit)}); taken out of service`,
    });
    void this.run(async () => {
      if (this.stopped || this.size >= this.desired) return;
      const from = this.size;
      this.ctx.activity({ service: this.name, from, to: this.desired, cause: `launching ${this.desired - from} worker(s) to bring the group back to its desired capacity ${this.desired}` });
      await this.reconcile(false);
    }).catch(() => undefined);
  }

  /** Replaces every worker of an older launch, one at a time: the new one in service first. */
  private async rollingReplace(what: string): Promise<void> {
    const current = launchSpecOf(this.spec);
    const old = this.active.filter((w) => w.launchSpec !== current);
    let i = 0;
    for (const w of old) {
      i++;
      if (!w.alive || w.retiring) continue;
      const fresh = await this.launch();
      this.ctx.activity({ service: this.name, from: this.desired, to: this.desired, cause: `${what}: worker pid ${w.pid} replaced by pid ${fresh.pid} (${i} of ${old.length})` });
      await this.retire(w);
    }
  }
}

function short(artifact: string): string {
  return artifact.length > 12 ? artifact.slice(0, 12) : artifact;
}

function tail(worker: WorkerProcess): string {
  const last = worker.lastError();
  return last ? `: ${last}` : '';
}
