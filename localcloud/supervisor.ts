// The local shop's supervisor: one gateway, one group per service and the autoscaler, applied
// from a fleet spec the way a deploy applies a stack (idempotent: the same spec changes nothing),
// with the state file and activity history kept current. It runs inside the detached
// supervisor process (supervisor-main.ts) and is driven through the control API.
import { openSync, closeSync, mkdirSync } from 'node:fs';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { LOCAL_STATE_FILE, type LocalActivity, type LocalState } from '../environment/index.js';
import { Autoscaler } from './autoscaler.js';
import { parseFleetSpec, routesOf, tuningOf, type FleetSpec, type Tuning } from './fleet-spec.js';
import { Gateway } from './gateway.js';
import { ServiceGroup, type ApplyOutcome } from './service-group.js';
import { endProcesses, shopMarker, shopProcesses, type ShopProcess } from './shop-processes.js';
import { appendActivity, readState, writeState } from './state-file.js';

export type ServiceOutcome = ApplyOutcome | 'removed';

export interface ApplyResult {
  /** false when nothing at all was changed (a second deploy of the same spec). */
  changed: boolean;
  gatewayUrl: string;
  gateway: 'started' | 'unchanged' | 'updated' | 'moved';
  services: Record<string, ServiceOutcome>;
}

export type Progress = (service: string, message: string) => void;

const HOST = '127.0.0.1';
const MAX_BODY_BYTES = 1024 * 1024;
/** The last applied spec, kept so that a supervisor started again after a crash restores the shop. */
export const APPLIED_SPEC_FILE = 'applied-spec.json';

export class Supervisor {
  private spec: FleetSpec | undefined;
  private gateway: Gateway | undefined;
  private readonly groups = new Map<string, ServiceGroup>();
  private readonly logFds = new Map<string, number>();
  private readonly autoscaler: Autoscaler;
  private applying: Promise<unknown> = Promise.resolve();
  private listeners = new Set<Progress>();
  private stateDirty = false;
  private stateWriting: Promise<void> = Promise.resolve();
  private activityWriting: Promise<void> = Promise.resolve();
  private stopping: Promise<{ pids: number[] }> | undefined;
  private restoring = false;
  private readonly restoredDesired = new Map<string, number>();

  constructor(
    readonly dir: string,
    private readonly log: Logger,
  ) {
    mkdirSync(join(dir, 'logs'), { recursive: true });
    this.autoscaler = new Autoscaler({
      groups: () => this.groups.values(),
      sampleIntervalMs: () => this.tuning().sampleIntervalMs,
      requestTotals: async () => (this.gateway ? this.gateway.requestTotals(this.groups.keys()) : new Map<string, number>()),
      onDecision: (service, decision, metric) => {
        if (decision.action !== 'none') this.log.info({ service, metric, decision }, 'scaling');
        else this.log.debug({ service, metric, reason: decision.reason }, 'no scaling');
      },
    });
  }

  tuning(): Tuning {
    return tuningOf(this.spec ?? {});
  }

  /** Applies a fleet spec; `progress` hears what happens while it runs. Applies run one at a time. */
  apply(input: unknown, progress?: Progress): Promise<ApplyResult> {
    const spec = parseFleetSpec(input);
    const run = this.applying.then(() => this.applyNow(spec, progress));
    this.applying = run.catch(() => undefined);
    return run;
  }

  private async applyNow(spec: FleetSpec, progress?: Progress): Promise<ApplyResult> {
    if (this.stopping) throw new Error('the fleet is stopping');
    if (progress) this.listeners.add(progress);
    try {
      const previous = this.spec;
      this.spec = spec;
      const t = tuningOf(spec);
      const gatewayOpts = {
        host: spec.gateway.host ?? HOST,
        port: spec.gateway.port,
        staticDir: spec.gateway.staticDir,
        healthPath: '/readyz',
        healthIntervalMs: t.healthIntervalMs,
        healthyThreshold: t.healthyThreshold,
        unhealthyThreshold: t.unhealthyThreshold,
        upstreamTimeoutMs: t.upstreamTimeoutMs,
        maxBodyBytes: MAX_BODY_BYTES,
        dir: this.dir,
        env: (role: 'gateway' | 'static') => shopMarker(this.dir, role),
      };
      let gatewayOutcome: ApplyResult['gateway'] = 'unchanged';
      if (!this.gateway) {
        const gateway = new Gateway(gatewayOpts);
        await gateway.listen().catch((err: NodeJS.ErrnoException) => {
          throw new Error(err.code === 'EADDRINUSE' ? err.message : `the gateway could not listen: ${err.message}`);
        });
        this.gateway = gateway;
        // A gateway a previous supervisor left running (it crashed) is taken over, not restarted.
        gatewayOutcome = gateway.adopted && this.restoring ? 'unchanged' : 'started';
        this.notify('gateway', `${gateway.adopted ? 'adopted the gateway already' : ''} listening on ${gateway.url}`.trim());
      } else {
        const moved = gatewayOpts.host !== (previous?.gateway.host ?? HOST) || (spec.gateway.port !== 0 && spec.gateway.port !== this.gateway.port);
        const updated = JSON.stringify({ ...previous?.gateway, tuning: tuningOf(previous ?? {}) }) !== JSON.stringify({ ...spec.gateway, tuning: t });
        await this.gateway.reconfigure(gatewayOpts);
        if (moved) {
          await this.gateway.rebind(gatewayOpts.host, gatewayOpts.port);
          gatewayOutcome = 'moved';
          this.notify('gateway', `moved to ${this.gateway.url}`);
        } else if (updated) gatewayOutcome = 'updated';
      }
      const gateway = this.gateway;
      await gateway.setRoutes(Object.fromEntries(Object.entries(spec.services).map(([name, svc]) => [name, routesOf(name, svc)])));

      const outcomes: Record<string, ServiceOutcome> = {};
      const failures: string[] = [];
      await Promise.all(
        Object.entries(spec.services).map(async ([name, svc]) => {
          try {
            let group = this.groups.get(name);
            if (!group) {
              group = new ServiceGroup(name, svc, this.groupContext(gateway), this.restoredDesired.get(name));
              this.groups.set(name, group);
              await group.create();
              outcomes[name] = 'created';
            } else {
              outcomes[name] = await group.apply(svc);
            }
          } catch (err) {
            failures.push(`${name}: ${(err as Error).message}`);
          }
        }),
      );
      for (const [name, group] of this.groups) {
        if (spec.services[name]) continue;
        await group.stop('deploy: service removed from the fleet');
        this.groups.delete(name);
        outcomes[name] = 'removed';
      }
      this.markChanged();
      this.autoscaler.start();
      await this.flushState();
      await this.saveSpec(spec);
      if (failures.length) throw new Error(failures.join('; '));
      const changed = gatewayOutcome !== 'unchanged' || Object.values(outcomes).some((o) => o !== 'unchanged');
      return { changed, gatewayUrl: gateway.url, gateway: gatewayOutcome, services: outcomes };
    } finally {
      if (progress) this.listeners.delete(progress);
    }
  }

  /**
   * After a crash (the keeper started this supervisor again): applies the last applied spec, at the
   * capacity the groups had, next to the workers and gateway the previous supervisor left running.
   * The gateway is adopted (it kept serving); the old workers keep serving until new ones are in
   * service, then each is taken out of rotation, drained and stopped. None is left orphaned.
   */
  async restore(): Promise<'restored' | 'nothing to restore'> {
    const text = await readFile(join(this.dir, APPLIED_SPEC_FILE), 'utf8').catch(() => undefined);
    const orphans = shopProcesses(this.dir, ['worker']);
    if (text === undefined) {
      await endProcesses(orphans, 10_000);
      return 'nothing to restore';
    }
    const saved = await readState(this.dir).catch(() => undefined);
    for (const [name, s] of Object.entries(saved?.services ?? {})) this.restoredDesired.set(name, s.desired);
    this.restoring = true;
    try {
      this.log.info({ orphans: orphans.map((o) => o.pid) }, 'restoring the fleet after a restart');
      await this.apply(JSON.parse(text) as unknown);
    } finally {
      this.restoring = false;
      this.restoredDesired.clear();
    }
    await this.retireOrphans(orphans);
    return 'restored';
  }

  private async retireOrphans(orphans: ShopProcess[]): Promise<void> {
    const gateway = this.gateway;
    const drainMs = this.tuning().drainSeconds * 1000;
    if (gateway) await Promise.all(gateway.foreignTargets().map((f) => gateway.releaseForeign(f.service, f.port, drainMs)));
    await endProcesses(orphans, drainMs + 5000);
    if (orphans.length) this.notify('fleet', `stopped ${orphans.length} worker(s) of the previous supervisor: ${orphans.map((o) => o.pid).join(', ')}`);
  }

  private async saveSpec(spec: FleetSpec): Promise<void> {
    const file = join(this.dir, APPLIED_SPEC_FILE);
    await writeFile(`${file}.tmp`, JSON.stringify(spec), { mode: 0o600 });
    await rename(`${file}.tmp`, file);
  }

  private groupContext(gateway: Gateway) {
    return {
      host: HOST,
      env: shopMarker(this.dir, 'worker'),
      gateway,
      tuning: () => this.tuning(),
      logFd: (service: string) => this.logFd(service),
      logPath: (service: string) => join(this.dir, 'logs', `${service}.log`),
      activity: (a: Omit<LocalActivity, 'time'>) => this.recordActivity(a),
      changed: () => this.markChanged(),
      progress: (service: string, message: string) => this.notify(service, message),
    };
  }

  state(): LocalState {
    const services: LocalState['services'] = {};
    for (const [name, g] of [...this.groups].sort(([a], [b]) => a.localeCompare(b))) {
      services[name] = {
        min: g.policy.min,
        max: g.policy.max,
        desired: g.desired,
        size: g.size,
        workers: [...g.workers.values()].filter((w) => w.alive).map((w) => ({ pid: w.pid, port: w.port, state: w.state })),
        cpuTarget: g.policy.cpuTarget,
        artifact: g.spec.artifact,
      };
    }
    return { environment: 'local', gatewayUrl: this.gateway?.url ?? '', updatedAt: new Date().toISOString(), services };
  }

  /** Every process the supervisor started that is still alive. */
  pids(): number[] {
    return [...this.groups.values()].flatMap((g) => [...g.workers.values()].filter((w) => w.alive).map((w) => w.pid));
  }

  /** Drains and stops every worker, closes the gateway, removes the state file. Idempotent. */
  stop(): Promise<{ pids: number[] }> {
    return (this.stopping ??= (async () => {
      await this.applying;
      this.autoscaler.stop();
      const pids = this.pids();
      await Promise.all([...this.groups.values()].map((g) => g.stop('destroy: fleet stopped')));
      this.groups.clear();
      // Workers of a previous supervisor that were not retired yet, and whatever it left behind.
      const left = shopProcesses(this.dir, ['worker']);
      await endProcesses(left, this.tuning().drainSeconds * 1000 + 5000);
      pids.push(...left.map((p) => p.pid));
      await this.gateway?.close();
      this.gateway = undefined;
      await rm(join(this.dir, APPLIED_SPEC_FILE), { force: true });
      await this.stateWriting;
      await this.activityWriting;
      await rm(join(this.dir, LOCAL_STATE_FILE), { force: true });
      for (const fd of this.logFds.values()) closeSync(fd);
      this.logFds.clear();
      return { pids };
    })());
  }

  private logFd(service: string): number {
    let fd = this.logFds.get(service);
    if (fd === undefined) this.logFds.set(service, (fd = openSync(join(this.dir, 'logs', `${service}.log`), 'a', 0o600)));
    return fd;
  }

  private notify(service: string, message: string): void {
    this.log.info({ service }, message);
    for (const l of this.listeners) l(service, message);
  }

  private recordActivity(a: Omit<LocalActivity, 'time'>): void {
    const entry: LocalActivity = { time: new Date().toISOString(), ...a };
    this.notify(a.service, `activity: ${a.from} -> ${a.to}: ${a.cause}`);
    this.activityWriting = this.activityWriting.then(() => appendActivity(this.dir, entry)).catch((err: Error) => this.log.error({ err: err.message }, 'could not append activity'));
    this.markChanged();
  }

  private markChanged(): void {
    if (this.stateDirty || this.stopping) return;
    this.stateDirty = true;
    setImmediate(() => void this.flushState());
  }

  /** Writes state.json now if anything changed (writes are serialised, each one atomic). */
  flushState(): Promise<void> {
    this.stateWriting = this.stateWriting.then(async () => {
      this.stateDirty = false;
      if (this.stopping) return;
      await writeState(this.dir, this.state()).catch((err: Error) => this.log.error({ err: err.message }, 'could not write state'));
    });
    return this.stateWriting;
  }
}
