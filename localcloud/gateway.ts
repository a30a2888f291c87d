// The local stand-in for the ALB (and CloudFront's static origin): one port, routes by path
// prefix to a service's workers, least outstanding requests among the healthy ones (round-robin
// on ties), active health checks, passive removal on connection refused, draining on
// deregistration, retries only when safe, and errors as JSON {code, message}.
//
// Written on node:http rather than a proxy library: the parts that matter here (which worker,
// when a retry is safe, counting a worker's in-flight requests for draining) sit around the proxy
// call, and http-proxy-3 / undici would still leave all of them to us.
import { randomUUID } from 'node:crypto';
import { Agent, createServer, request, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { HealthCheck } from './health-check.js';
import { serveStatic } from './static-assets.js';

export interface GatewayOptions {
  host: string;
  port: number;
  staticDir?: string;
  healthPath: string;
  healthIntervalMs: number;
  healthyThreshold: number;
  unhealthyThreshold: number;
  upstreamTimeoutMs: number;
  /** Request bodies are read before proxying (so a retry can resend them); larger ones get 413. */
  maxBodyBytes: number;
}

export interface TargetInfo {
  id: string;
  service: string;
  port: number;
  healthy: boolean;
  draining: boolean;
  outstanding: number;
}

interface Target {
  id: string;
  service: string;
  host: string;
  port: number;
  agent: Agent;
  check: HealthCheck;
  draining: boolean;
  outstanding: number;
  idle: Array<() => void>;
  onHealth: (healthy: boolean) => void;
  /** Passed a health check at least once (it was in service): a fail-open candidate. */
  served: boolean;
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade']);
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);
const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const MAX_ATTEMPTS = 3;

export class Gateway {
  private server: Server | undefined;
  private readonly targets = new Map<string, Target>();
  private routes: Array<{ prefix: string; service: string }> = [];
  private readonly rr = new Map<string, number>();
  private readonly sockets = new Set<Socket>();
  url = '';

  constructor(private opts: GatewayOptions) {}

  get port(): number {
    const a = this.server?.address();
    return typeof a === 'object' && a ? a.port : 0;
  }

  async listen(): Promise<string> {
    const server = createServer((req, res) => this.handle(req, res));
    server.keepAliveTimeout = 65_000;
    server.headersTimeout = 66_000;
    server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.once('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.port, this.opts.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    this.url = `http://${this.opts.host}:${this.port}`;
    return this.url;
  }

  /** Listens on a new address, then closes the old listener (targets and routes stay). */
  async rebind(host: string, port: number): Promise<string> {
    const old = this.server;
    this.opts = { ...this.opts, host, port };
    await this.listen();
    if (old) {
      old.close();
      old.closeIdleConnections();
    }
    return this.url;
  }

  /** Settings that can change without a restart (static folder, health timings, timeouts). */
  reconfigure(opts: Partial<Omit<GatewayOptions, 'host' | 'port'>>): void {
    this.opts = { ...this.opts, ...opts };
  }

  setRoutes(routes: Record<string, string[]>): void {
    this.routes = Object.entries(routes)
      .flatMap(([service, prefixes]) => prefixes.map((prefix) => ({ prefix, service })))
      .sort((a, b) => b.prefix.length - a.prefix.length);
  }

  /** Registers a worker; it receives traffic once its health check passes. */
  addTarget(t: { id: string; service: string; host: string; port: number; onHealth: (healthy: boolean) => void }): void {
    const agent = new Agent({ keepAlive: true, maxSockets: 256, maxFreeSockets: 32, timeout: 30_000, scheduling: 'lifo' });
    // The check's first probe runs on a timer, after `target` below exists.
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
        target.onHealth(healthy);
      },
    });
    const target: Target = { ...t, agent, check, draining: false, served: false, outstanding: 0, idle: [] };
    this.targets.set(t.id, target);
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
    if (t.outstanding > 0) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timeoutMs);
        t.idle.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    return { inflightLeft: t.outstanding };
  }

  /** Forgets a worker (it exited): stops its checks and closes the pooled connections. */
  removeTarget(id: string): void {
    const t = this.targets.get(id);
    if (!t) return;
    t.check.stop();
    t.draining = true;
    this.targets.delete(id);
    t.agent.destroy();
    for (const fn of t.idle.splice(0)) fn();
  }

  targetsOf(service?: string): TargetInfo[] {
    return [...this.targets.values()]
      .filter((t) => service === undefined || t.service === service)
      .map((t) => ({ id: t.id, service: t.service, port: t.port, healthy: t.check.healthy, draining: t.draining, outstanding: t.outstanding }));
  }

  async close(): Promise<void> {
    for (const id of [...this.targets.keys()]) this.removeTarget(id);
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    for (const s of this.sockets) s.destroySoon();
    await closed;
  }

  private route(pathname: string): string | undefined {
    for (const r of this.routes) {
      if (pathname === r.prefix || pathname.startsWith(r.prefix === '/' ? '/' : `${r.prefix}/`)) return r.service;
    }
    return undefined;
  }

  private pick(service: string, exclude: Set<string>): Target | undefined {
    const open = [...this.targets.values()].filter((t) => t.service === service && !t.draining && !exclude.has(t.id));
    let candidates = open.filter((t) => t.check.healthy);
    // Fail open, as an ALB does when every target of a group is unhealthy: a worker too busy to
    // answer its health check in time (CPU-starved on sale day) still serves better than a 503.
    // Only workers that were in service once; a refused connection still takes one out at once.
    if (candidates.length === 0 && ![...this.targets.values()].some((t) => t.service === service && t.check.healthy)) candidates = open.filter((t) => t.served);
    if (candidates.length === 0) return undefined;
    const least = Math.min(...candidates.map((t) => t.outstanding));
    const tied = candidates.filter((t) => t.outstanding === least);
    const n = this.rr.get(service) ?? 0;
    this.rr.set(service, n + 1);
    return tied[n % tied.length];
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const requestId = typeof req.headers['x-request-id'] === 'string' && REQUEST_ID.test(req.headers['x-request-id']) ? req.headers['x-request-id'] : randomUUID();
    res.setHeader('x-request-id', requestId);
    const fail = (status: number, code: string, message: string) => sendJson(res, status, { code, message });
    // Refused as nginx and HAProxy refuse them (400, connection closed): node's parser accepts
    // HTTP/0.9 and 2.0 request lines, and keeps the first of several Host headers while a worker
    // or cache behind may read another (request smuggling, cache poisoning).
    const badRequest = malformed(req);
    if (badRequest) {
      res.setHeader('connection', 'close');
      return fail(400, 'BAD_REQUEST', badRequest);
    }
    let pathname: string;
    try {
      pathname = new URL(req.url ?? '/', 'http://gateway').pathname;
    } catch {
      return fail(400, 'BAD_REQUEST', 'the request target is not a valid path');
    }
    const service = this.route(pathname);
    if (!service) {
      if (this.opts.staticDir && !pathname.startsWith('/api/')) return serveStatic(req, res, this.opts.staticDir, pathname, fail);
      return fail(404, 'NOT_FOUND', `nothing is routed at ${pathname}`);
    }
    readBody(req, this.opts.maxBodyBytes).then(
      (body) => this.forward(req, res, service, requestId, body, new Set(), 1),
      (err: Error & { tooLarge?: boolean }) => {
        if (err.tooLarge) fail(413, 'PAYLOAD_TOO_LARGE', `request bodies are limited to ${this.opts.maxBodyBytes} bytes`);
        else req.destroy();
      },
    );
  }

  private forward(req: IncomingMessage, res: ServerResponse, service: string, requestId: string, body: Buffer, tried: Set<string>, attempt: number): void {
    const fail = (status: number, code: string, message: string) => sendJson(res, status, { code, message });
    if (res.destroyed) return;
    const target = this.pick(service, tried);
    if (!target) {
      if (tried.size > 0) return fail(502, 'BAD_GATEWAY', `the ${service} service did not answer; try again`);
      return fail(503, 'SERVICE_UNAVAILABLE', `no healthy ${service} worker is in service; try again shortly`);
    }
    tried.add(target.id);
    target.outstanding++;
    let finished = false;
    const done = () => {
      if (finished) return;
      finished = true;
      target.outstanding--;
      if (target.outstanding === 0) for (const fn of target.idle.splice(0)) fn();
    };

    const up = request({
      host: target.host,
      port: target.port,
      method: req.method,
      path: req.url,
      headers: upstreamHeaders(req, requestId, body.length),
      agent: target.agent,
    });
    let connected = false;
    up.on('socket', (s: Socket) => {
      if (!s.connecting) connected = true;
      else s.once('connect', () => (connected = true));
    });
    up.setTimeout(this.opts.upstreamTimeoutMs, () => up.destroy(Object.assign(new Error('upstream timed out'), { code: 'UPSTREAM_TIMEOUT' })));
    const onClientGone = () => {
      if (!res.writableFinished) up.destroy();
    };
    res.once('close', onClientGone);

    up.on('response', (upRes) => {
      upRes.once('close', done);
      res.writeHead(upRes.statusCode ?? 502, responseHeaders(upRes.headers));
      upRes.pipe(res);
      upRes.once('aborted', () => res.destroy());
      upRes.once('error', () => res.destroy());
    });
    up.on('error', (err: NodeJS.ErrnoException) => {
      done();
      res.off('close', onClientGone);
      if (res.headersSent) return void res.destroy();
      if (res.destroyed) return;
      const refused = !connected && ['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'EADDRNOTAVAIL'].includes(err.code ?? '');
      if (refused) {
        target.check.markFailed();
        target.served = false; // gone: not even a fail-open candidate until it passes a check again
      }
      if (err.code === 'UPSTREAM_TIMEOUT') return fail(504, 'GATEWAY_TIMEOUT', `the ${service} service did not answer within ${this.opts.upstreamTimeoutMs} ms`);
      // Safe to send elsewhere: nothing reached the worker, or sending it twice does no harm.
      const safe = refused || IDEMPOTENT.has(req.method ?? '');
      if (safe && attempt < MAX_ATTEMPTS) return this.forward(req, res, service, requestId, body, tried, attempt + 1);
      return fail(502, 'BAD_GATEWAY', `the ${service} service closed the connection before answering`);
    });
    up.end(body);
  }
}

/** Why a request is not one the gateway forwards, or undefined when it is well formed. */
function malformed(req: IncomingMessage): string | undefined {
  if (req.httpVersionMajor !== 1) return `HTTP/${req.httpVersion} is not supported; send HTTP/1.1`;
  let hosts = 0;
  for (let i = 0; i < req.rawHeaders.length; i += 2) if (req.rawHeaders[i]?.toLowerCase() === 'host') hosts++;
  if (hosts > 1) return 'the request has more than one Host header';
  return undefined;
}

function upstreamHeaders(req: IncomingMessage, requestId: string, bodyLength: number): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (v === undefined || HOP_BY_HOP.has(k) || k === 'content-length') continue;
    out[k] = v;
  }
  const client = req.socket.remoteAddress ?? '';
  const prior = req.headers['x-forwarded-for'];
  out['x-forwarded-for'] = prior ? `${Array.isArray(prior) ? prior.join(', ') : prior}, ${client}` : client;
  out['x-forwarded-proto'] = 'http';
  if (req.headers.host) out['x-forwarded-host'] = req.headers.host;
  out['x-request-id'] = requestId;
  if (bodyLength > 0 || !['GET', 'HEAD', 'DELETE', 'OPTIONS'].includes(req.method ?? '')) out['content-length'] = String(bodyLength);
  return out;
}

function responseHeaders(h: IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
  return out;
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limit) return reject(Object.assign(new Error('too large'), { tooLarge: true }));
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        reject(Object.assign(new Error('too large'), { tooLarge: true }));
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export function sendJson(res: ServerResponse, status: number, body: { code: string; message: string }): void {
  if (res.headersSent || res.destroyed) return void res.destroy();
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}
