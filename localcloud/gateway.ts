// The local stand-in for the ALB (and CloudFront's static origin): HAProxy from the system, run as
// a process of its own so that it outlives the supervisor (a managed load balancer does not die
// with its autoscaler), with the static storefront served by a small origin process beside it
// (static-main.ts). This class is the supervisor's handle on both: it starts them or adopts the
// ones a previous supervisor left running (pid + start time + marker checked), reloads HAProxy
// only when its configuration changes (routes, port, timeouts: hitless, master-worker reload with
// the server states carried over), and puts workers in and out of rotation through HAProxy's
// runtime API, never a reload. Health checks stay here (health-check.ts): the first success puts a
// worker in service, 2 failures take it out, and when every worker that served fails, the group
// fails open as an ALB does. HAProxy does the rest: least outstanding requests, retries when
// safe, X-Forwarded-*, JSON errors (haproxy-config.ts).
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort } from './free-port.js';
import { backendOf, errorPages, renderHaproxyConfig, SLOTS, slotName, type HaproxySettings } from './haproxy-config.js';
import { backendRequests, currentSessions, infoPid, serversUp, runtimeCommand, usedSlots } from './haproxy-runtime.js';
import { HealthCheck } from './health-check.js';
import { gatewayDir, socketIn } from './local-paths.js';
import { minimalEnv } from './process-env.js';
import { endProcesses, isSameProcess, pause, shopProcesses, startTimeOf, type ShopProcess } from './shop-processes.js';

/** How long a reload may take before the master is signalled again. */
const RELOAD_RESEND_MS = 4000;

export interface GatewayOptions {
  host: string;
  port: number;
  staticDir?: string;
  healthPath: string;
  healthIntervalMs: number;
  healthyThreshold: number;
  unhealthyThreshold: number;
  upstreamTimeoutMs: number;
  /** Requests declaring a larger body get 413. */
  maxBodyBytes: number;
  /** Longest a client may take to send its request headers (default 10 s). */
  requestTimeoutMs?: number;
  /** The folder the gateway's files live in (`gateway/` below it). */
  dir: string;
  /** Added to the minimal environment of HAProxy and the static origin (the shop's marker). */
  env?: (role: 'gateway' | 'static') => Record<string, string>;
}

export interface TargetInfo {
  id: string;
  service: string;
  port: number;
  healthy: boolean;
  draining: boolean;
  outstanding: number;
  /** HAProxy itself routes to it now (its runtime state, not only our health check's verdict). */
  inRotation: boolean;
}

interface Target {
  id: string;
  service: string;
  port: number;
  slot: number;
  check: HealthCheck;
  draining: boolean;
  /** Passed a health check at least once (it was in service): a fail-open candidate. */
  served: boolean;
  /** What HAProxy was last told: in rotation or not. */
  routed: boolean;
  onHealth: (healthy: boolean) => void;
}

/** What a supervisor records about the gateway's processes, to adopt them after a restart. */
interface GatewayRecord {
  haproxy: Pick<ShopProcess, 'pid' | 'startTime'>;
  static?: Pick<ShopProcess, 'pid' | 'startTime'> & { port: number; root: string };
  host: string;
  port: number;
}

const HAPROXY = ['/usr/sbin/haproxy', '/usr/local/sbin/haproxy'].find((p) => existsSync(p)) ?? 'haproxy';

export class Gateway {
  private readonly targets = new Map<string, Target>();
  private readonly slots = new Map<string, Array<string | undefined>>();
  /** Slots holding a worker this supervisor did not start (adopted from a previous one): service -> slot -> port. */
  private readonly foreign = new Map<string, Map<number, number>>();
  private routes: Record<string, string[]> = {};
  private record: GatewayRecord | undefined;
  private commands: Promise<unknown> = Promise.resolve();
  private watchTimer: NodeJS.Timeout | undefined;
  private closing = false;
  private readonly files: string;
  private readonly runtimeSocket: string;
  /** True when listen() found a running gateway and took it over. */
  adopted = false;
  url = '';

  constructor(private opts: GatewayOptions) {
    this.files = gatewayDir(opts.dir);
    this.runtimeSocket = socketIn(opts.dir, 'gateway.sock');
    mkdirSync(join(this.files, 'errors'), { recursive: true, mode: 0o700 });
  }

  get port(): number {
    return this.record?.port ?? 0;
  }

  /** Adopts the gateway a previous supervisor left running, or starts one; resolves with its URL. */
  async listen(): Promise<string> {
    if (!(await this.adopt())) await this.start();
    this.url = `http://${this.opts.host}:${this.port}`;
    this.watch();
    return this.url;
  }

  /** Moves the gateway to a new address (a reload: connections in flight finish on the old one). */
  async rebind(host: string, port: number): Promise<string> {
    this.opts = { ...this.opts, host, port };
    await this.applyConfig(port || this.port);
    this.url = `http://${host}:${this.port}`;
    return this.url;
  }

  /** Settings that can change without moving (static folder, health timings, timeouts). */
  async reconfigure(opts: Partial<Omit<GatewayOptions, 'host' | 'port' | 'dir'>>): Promise<void> {
    this.opts = { ...this.opts, ...opts };
    await this.ensureStatic();
    await this.applyConfig(this.port);
  }

  async setRoutes(routes: Record<string, string[]>): Promise<void> {
    this.routes = routes;
    for (const service of Object.keys(routes)) if (!this.slots.has(service)) this.slots.set(service, new Array<string | undefined>(SLOTS + 1).fill(undefined));
    await this.applyConfig(this.port);
    await this.learnForeignSlots();
  }

  /** Registers a worker; it receives traffic once its health check passes. */
  addTarget(t: { id: string; service: string; host: string; port: number; onHealth: (healthy: boolean) => void }): void {
    const slots = this.slots.get(t.service);
    if (!slots) throw new Error(`no route for the ${t.service} service`);
    const busy = this.foreign.get(t.service) ?? new Map<number, number>();
    const slot = slots.findIndex((id, n) => n > 0 && id === undefined && !busy.has(n));
    if (slot < 0) throw new Error(`the ${t.service} service already has ${SLOTS} workers in the gateway`);
    slots[slot] = t.id;
    const check = new HealthCheck({
      host: t.host,
      port: t.port,
      path: this.opts.healthPath,
      intervalMs: this.opts.healthIntervalMs,
      startIntervalMs: Math.min(100, this.opts.healthIntervalMs),
      // Like a target group's 5 s timeout, shorter when checks are frequent; a busy worker still answers.
      timeoutMs: Math.max(2000, Math.min(5000, this.opts.healthIntervalMs)),
      healthyThreshold: this.opts.healthyThreshold,
      unhealthyThreshold: this.opts.unhealthyThreshold,
      onChange: (healthy) => {
        if (healthy) target.served = true;
        // In rotation first, then the group hears it is in service.
        void this.sync(t.service).then(() => target.onHealth(healthy));
      },
    });
    const target: Target = { id: t.id, service: t.service, port: t.port, slot, check, draining: false, served: false, routed: false, onHealth: t.onHealth };
    this.targets.set(t.id, target);
    void this.serialise(() => this.runtime(`set server ${this.server(target)} addr 127.0.0.1 port ${t.port}`)).catch(() => undefined);
  }

  /**
   * Deregisters a worker the way a target group does: no new requests from now on, and resolves
   * once its in-flight requests finished (or after `timeoutMs`, the deregistration delay).
   */
  async drainTarget(id: string, timeoutMs: number): Promise<{ inflightLeft: number }> {
    const t = this.targets.get(id);
    if (!t) return { inflightLeft: 0 };
    t.draining = true;
    t.check.stop();
    await this.sync(t.service);
    return { inflightLeft: await this.waitIdle(this.server(t), timeoutMs) };
  }

  /** Forgets a worker (it exited): stops its checks and frees its slot. */
  removeTarget(id: string): void {
    const t = this.targets.get(id);
    if (!t) return;
    t.check.stop();
    t.draining = true;
    this.targets.delete(id);
    const slots = this.slots.get(t.service);
    void this.sync(t.service)
      .then(() => this.runtime(`set server ${this.server(t)} state maint;set server ${this.server(t)} addr 127.0.0.1 port 1`))
      .catch(() => undefined)
      .finally(() => {
        if (slots && slots[t.slot] === t.id) slots[t.slot] = undefined;
      });
  }

  /** Workers in rotation that this supervisor did not start (a previous supervisor's): service and port. */
  foreignTargets(): Array<{ service: string; port: number }> {
    return [...this.foreign].flatMap(([service, m]) => [...m.values()].map((port) => ({ service, port })));
  }

  /** Takes a previous supervisor's worker out of rotation and waits for its in-flight requests. */
  async releaseForeign(service: string, port: number, timeoutMs: number): Promise<void> {
    const m = this.foreign.get(service);
    const slot = [...(m ?? new Map<number, number>())].find(([, p]) => p === port)?.[0];
    if (slot === undefined || !m) return;
    const server = `${backendOf(service)}/${slotName(slot)}`;
    await this.runtime(`set server ${server} state maint`).catch(() => undefined);
    await this.waitIdle(server, timeoutMs);
    await this.runtime(`set server ${server} addr 127.0.0.1 port 1`).catch(() => undefined);
    m.delete(slot);
  }

  async targetsOf(service?: string): Promise<TargetInfo[]> {
    const stat = await this.runtime('show stat').catch(() => '');
    const sessions = currentSessions(stat);
    const up = serversUp(stat);
    return [...this.targets.values()]
      .filter((t) => service === undefined || t.service === service)
      .map((t) => ({ id: t.id, service: t.service, port: t.port, healthy: t.check.healthy, draining: t.draining, outstanding: sessions.get(this.server(t)) ?? 0, inRotation: up.has(this.server(t)) }));
  }

  /** Cumulative requests HAProxy has sent to each service's backend (the request metric of target tracking). */
  async requestTotals(services: Iterable<string>): Promise<Map<string, number>> {
    const byBackend = backendRequests(await this.runtime('show stat'));
    const out = new Map<string, number>();
    for (const service of services) {
      const n = byBackend.get(backendOf(service));
      if (n !== undefined) out.set(service, n);
    }
    return out;
  }

  /** Stops HAProxy (soft stop: requests in flight finish) and the static origin. */
  async close(): Promise<void> {
    this.closing = true;
    if (this.watchTimer) clearInterval(this.watchTimer);
    for (const t of this.targets.values()) t.check.stop();
    this.targets.clear();
    const procs = [this.record?.haproxy, this.record?.static].filter((p): p is GatewayRecord['haproxy'] => p !== undefined);
    if (this.record) await endProcesses([this.record.haproxy], 10_000, 'SIGUSR1');
    await endProcesses(procs, 5000);
    this.record = undefined;
    await rm(this.recordFile(), { force: true });
    await rm(this.runtimeSocket, { force: true });
  }

  /** Stops watching without touching the processes (they stay up for the next supervisor). */
  detach(): void {
    this.closing = true;
    if (this.watchTimer) clearInterval(this.watchTimer);
    for (const t of this.targets.values()) t.check.stop();
  }

  // --- processes --------------------------------------------------------------------------------

  private recordFile(): string {
    return join(this.files, 'gateway.json');
  }

  private async adopt(): Promise<boolean> {
    let rec: GatewayRecord;
    try {
      rec = JSON.parse(await readFile(this.recordFile(), 'utf8')) as GatewayRecord;
    } catch {
      return false;
    }
    if (!isSameProcess(rec.haproxy.pid, rec.haproxy.startTime) || !(await this.answers())) return false;
    this.record = rec;
    this.adopted = true;
    // The port it serves on stays (a deploy with port 0 keeps the URL); a fixed new port moves it.
    if (this.opts.port !== 0 && (this.opts.port !== rec.port || this.opts.host !== rec.host)) await this.rebind(this.opts.host, this.opts.port);
    return true;
  }

  private async start(): Promise<void> {
    const previous = await readFile(this.recordFile(), 'utf8').then((t) => JSON.parse(t) as GatewayRecord, () => undefined);
    // Port 0 picks a free port once; a gateway started again (it died) keeps its URL.
    const port = this.opts.port || (previous && previous.host === this.opts.host ? previous.port : 0) || (await freePort(this.opts.host));
    // Never two gateways for one shop: one this supervisor cannot adopt (no record, no answer) goes.
    if (this.opts.env) await endProcesses(shopProcesses(this.opts.dir, ['gateway']), 5000);
    this.record = { haproxy: { pid: 0, startTime: '' }, host: this.opts.host, port };
    await this.ensureStatic();
    await this.writeConfig(port);
    await writeFile(join(this.files, 'servers.state'), '1\n# be_id be_name srv_id srv_name srv_addr\n', { mode: 0o600 });
    await rm(this.runtimeSocket, { force: true });
    const log = openSync(join(this.files, 'haproxy.log'), 'a', 0o600);
    const child = spawn(HAPROXY, ['-W', '-db', '-f', this.configFile(), '-p', join(this.files, 'haproxy.pid')], {
      env: minimalEnv(this.opts.env?.('gateway') ?? {}),
      stdio: ['ignore', log, log],
    });
    closeSync(log);
    let exited = false;
    child.once('exit', () => (exited = true));
    child.once('error', () => (exited = true));
    child.unref();
    const deadline = Date.now() + 10_000;
    while (!(await this.answers())) {
      if (exited || Date.now() > deadline) {
        child.kill('SIGKILL');
        const tail = (await readFile(join(this.files, 'haproxy.log'), 'utf8').catch(() => '')).trim().split('\n').slice(-3).join(' | ');
        if (/cannot bind socket|Address already in use/i.test(tail)) throw Object.assign(new Error(`the gateway port ${port} is already in use; choose another port in the inventory or stop what uses it`), { code: 'EADDRINUSE' });
        throw new Error(`the gateway (HAProxy) did not start: ${tail || 'no output'}`);
      }
      await pause(25);
    }
    this.record.haproxy = { pid: child.pid ?? 0, startTime: startTimeOf(child.pid ?? 0) };
    await this.saveRecord();
  }

  /** Starts the static origin when a folder is served and none runs for it. */
  private async ensureStatic(): Promise<void> {
    if (!this.record) return;
    const root = this.opts.staticDir;
    const running = this.record.static;
    if (running && isSameProcess(running.pid, running.startTime) && running.root === root) return;
    if (running) await endProcesses([running], 5000);
    this.record.static = undefined;
    if (!root) return;
    const port = await freePort('127.0.0.1');
    const log = openSync(join(this.files, 'static.log'), 'a', 0o600);
    const child = spawn(process.execPath, [join(import.meta.dirname, staticEntry()), '--root', root, '--port', String(port)], {
      env: minimalEnv(this.opts.env?.('static') ?? {}),
      stdio: ['ignore', log, log],
    });
    closeSync(log);
    child.unref();
    const deadline = Date.now() + 10_000;
    while (!(await fetch(`http://127.0.0.1:${port}/`, { method: 'HEAD' }).then(() => true, () => false))) {
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`the static origin did not start; see ${join(this.files, 'static.log')}`);
      await pause(25);
    }
    this.record.static = { pid: child.pid ?? 0, startTime: startTimeOf(child.pid ?? 0), port, root };
    await this.saveRecord();
  }

  /** Every second: a gateway process that died is started again on the same port, workers put back. */
  private watch(): void {
    if (this.watchTimer) return;
    this.watchTimer = setInterval(() => {
      if (this.closing || !this.record) return;
      const h = this.record.haproxy;
      const s = this.record.static;
      if (isSameProcess(h.pid, h.startTime) && (!s || isSameProcess(s.pid, s.startTime))) return;
      void this.serialise(async () => {
        if (this.closing) return;
        if (s && !isSameProcess(s.pid, s.startTime)) await this.ensureStatic();
        if (!isSameProcess(h.pid, h.startTime)) {
          await this.start();
          for (const t of this.targets.values()) t.routed = false;
          await this.runtimeAll([...this.targets.values()].map((t) => `set server ${this.server(t)} addr 127.0.0.1 port ${t.port}`));
          for (const service of this.slots.keys()) await this.syncNow(service);
        } else await this.applyConfigNow(this.port);
      }).catch(() => undefined);
    }, 1000);
    this.watchTimer.unref();
  }

  private async saveRecord(): Promise<void> {
    const tmp = `${this.recordFile()}.tmp`;
    await writeFile(tmp, `${JSON.stringify(this.record)}\n`, { mode: 0o600 });
    await rename(tmp, this.recordFile());
  }

  private async answers(): Promise<boolean> {
    return runtimeCommand(this.runtimeSocket, 'show info', 2000).then(
      (info) => infoPid(info) !== undefined,
      () => false,
    );
  }

  // --- configuration ----------------------------------------------------------------------------

  private configFile(): string {
    return join(this.files, 'haproxy.cfg');
  }

  private settings(port: number): HaproxySettings {
    return {
      host: this.opts.host,
      port,
      runtimeSocket: this.runtimeSocket,
      stateFile: join(this.files, 'servers.state'),
      errorDir: join(this.files, 'errors'),
      staticPort: this.record?.static?.port,
      upstreamTimeoutMs: this.opts.upstreamTimeoutMs,
      requestTimeoutMs: this.opts.requestTimeoutMs ?? 10_000,
      maxBodyBytes: this.opts.maxBodyBytes,
      routes: this.routes,
    };
  }

  /** Writes the configuration and its error pages; false when nothing changed. */
  private async writeConfig(port: number): Promise<boolean> {
    const s = this.settings(port);
    const text = renderHaproxyConfig(s);
    const pages = errorPages(s);
    const old = await readFile(this.configFile(), 'utf8').catch(() => '');
    const pagesChanged = Object.entries(pages).some(([name, body]) => readFileQuiet(join(s.errorDir, name)) !== body);
    if (old === text && !pagesChanged) return false;
    for (const [name, body] of Object.entries(pages)) writeFileSync(join(s.errorDir, name), body, { mode: 0o600 });
    const candidate = `${this.configFile()}.new`;
    await writeFile(candidate, text, { mode: 0o600 });
    const check = spawnSync(HAPROXY, ['-c', '-q', '-f', candidate], { encoding: 'utf8', env: minimalEnv() });
    if (check.status !== 0) throw new Error(`the gateway configuration is not valid: ${(check.stderr || check.stdout).trim().split('\n').slice(-2).join(' | ')}`);
    await rename(candidate, this.configFile());
    return true;
  }

  private applyConfig(port: number): Promise<void> {
    return this.serialise(() => this.applyConfigNow(port));
  }

  /** Reloads HAProxy when the configuration changed: the new process takes over the listener and the server states. */
  private async applyConfigNow(port: number): Promise<void> {
    if (!this.record || !isSameProcess(this.record.haproxy.pid, this.record.haproxy.startTime)) return;
    if (!(await this.writeConfig(port))) return;
    const before = infoPid(await runtimeCommand(this.runtimeSocket, 'show info'));
    const states = await runtimeCommand(this.runtimeSocket, 'show servers state');
    await writeFile(join(this.files, 'servers.state'), states, { mode: 0o600 });
    // A master still finishing its own start can miss the signal (seen once on a loaded CI machine:
    // no new worker within 15 s), so it is sent again every few seconds; a second reload of the
    // same configuration is harmless.
    const pid0 = this.record.haproxy.pid;
    process.kill(pid0, 'SIGUSR2');
    const deadline = Date.now() + 30_000;
    let resendAt = Date.now() + RELOAD_RESEND_MS;
    for (;;) {
      const pid = infoPid(await runtimeCommand(this.runtimeSocket, 'show info', 2000).catch(() => ''));
      if (pid !== undefined && pid !== before) break;
      if (Date.now() > deadline) throw new Error(`the gateway did not reload; see ${join(this.files, 'haproxy.log')}`);
      if (Date.now() > resendAt) {
        process.kill(pid0, 'SIGUSR2');
        resendAt = Date.now() + RELOAD_RESEND_MS;
      }
      await pause(25);
    }
    this.record.port = port;
    this.record.host = this.opts.host;
    await this.saveRecord();
  }

  /** Slots a previous supervisor filled (adopted gateway): kept out of reach until released. */
  private async learnForeignSlots(): Promise<void> {
    if (!this.adopted) return;
    for (const service of Object.keys(this.routes)) {
      if (this.foreign.has(service)) continue;
      const used = usedSlots(await this.runtime(`show servers state ${backendOf(service)}`).catch(() => ''));
      const mine = new Set((this.slots.get(service) ?? []).map((id, n) => (id ? slotName(n) : '')));
      const m = new Map<number, number>();
      for (const [name, port] of used) if (!mine.has(name)) m.set(Number(name.slice(1)), port);
      this.foreign.set(service, m);
    }
  }

  // --- rotation ---------------------------------------------------------------------------------

  private server(t: Pick<Target, 'service' | 'slot'>): string {
    return `${backendOf(t.service)}/${slotName(t.slot)}`;
  }

  /** Puts in rotation exactly the workers that should be: the healthy ones, or (fail open) those that served. */
  private sync(service: string): Promise<void> {
    return this.serialise(() => this.syncNow(service));
  }

  private async syncNow(service: string): Promise<void> {
    const group = [...this.targets.values()].filter((t) => t.service === service);
    const open = group.filter((t) => !t.draining);
    let wanted = open.filter((t) => t.check.healthy);
    // Fail open, as an ALB does when every target of a group is unhealthy: a worker too busy to
    // answer its health check in time (CPU-starved on sale day) still serves better than a 503.
    if (wanted.length === 0 && !group.some((t) => t.check.healthy)) wanted = open.filter((t) => t.served);
    const commands: string[] = [];
    for (const t of group) {
      const want = wanted.includes(t);
      if (want === t.routed) continue;
      t.routed = want;
      commands.push(`set server ${this.server(t)} state ${want ? 'ready' : 'maint'}`);
    }
    await this.runtimeAll(commands);
  }

  private async waitIdle(server: string, timeoutMs: number): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const left = currentSessions(await this.runtime('show stat').catch(() => '')).get(server) ?? 0;
      if (left === 0 || Date.now() > deadline) return left;
      await pause(50);
    }
  }

  private async runtimeAll(commands: string[]): Promise<void> {
    for (let i = 0; i < commands.length; i += 20) await this.runtime(commands.slice(i, i + 20).join(';'));
  }

  private runtime(command: string): Promise<string> {
    return runtimeCommand(this.runtimeSocket, command);
  }

  private serialise<T>(op: () => Promise<T>): Promise<T> {
    const run = this.commands.then(op);
    this.commands = run.catch(() => undefined);
    return run;
  }
}

function readFileQuiet(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** The static origin's entry point beside this module (also when this module runs from its TypeScript source in tests). */
function staticEntry(): string {
  return import.meta.filename.endsWith('.ts') ? '../dist/localcloud/static-main.js' : 'static-main.js';
}
