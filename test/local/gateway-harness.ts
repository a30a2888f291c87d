// The gateway's tests' shared pieces: small upstream servers the test controls (every request
// recorded), a gateway in a throwaway folder (closed at teardown), workers registered and waited
// into rotation, and a fetch that parses JSON when it can.
import t from 'tap';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Gateway } from '../../localcloud/gateway.js';
import { waitFor } from './fleet-harness.js';

export interface Upstream {
  name: string;
  port: number;
  hits: Array<{ method: string; url: string; headers: IncomingMessage['headers']; body: string }>;
  ready: boolean;
  server: Server;
  close(): Promise<void>;
}

export async function upstream(name: string, routes: Record<string, (req: IncomingMessage, res: ServerResponse) => void> = {}): Promise<Upstream> {
  const u = { name, hits: [], ready: true } as unknown as Upstream;
  u.server = createServer((req, res) => {
    if (req.url === '/readyz') {
      // (never writeHead(...).end(): with restify loaded in the same process, writeHead returns nothing)
      res.writeHead(u.ready ? 200 : 503);
      res.end();
      return;
    }
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      u.hits.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      const route = routes[new URL(req.url ?? '/', 'http://x').pathname.split('/').pop() ?? ''];
      if (route) return route(req, res);
      const text = JSON.stringify({ name, url: req.url, body, xff: req.headers['x-forwarded-for'], rid: req.headers['x-request-id'] });
      res.writeHead(200, { 'content-type': 'application/json', 'x-upstream': name });
      res.end(text);
    });
  });
  await new Promise<void>((r) => u.server.listen(0, '127.0.0.1', r));
  u.port = (u.server.address() as { port: number }).port;
  u.close = () =>
    new Promise<void>((r) => {
      u.server.close(() => r());
      u.server.closeAllConnections();
    });
  t.teardown(() => u.close());
  return u;
}

export async function gateway(opts: Partial<ConstructorParameters<typeof Gateway>[0]> = {}): Promise<Gateway> {
  const dir = await mkdtemp(join(tmpdir(), 'sdg-'));
  const g = new Gateway({ host: '127.0.0.1', port: 0, healthPath: '/readyz', healthIntervalMs: 100, healthyThreshold: 2, unhealthyThreshold: 2, upstreamTimeoutMs: 5000, maxBodyBytes: 1024, dir, ...opts });
  await g.listen();
  t.teardown(async () => {
    await g.close();
    await rm(dir, { recursive: true, force: true });
  });
  return g;
}

export function register(g: Gateway, service: string, u: Upstream): void {
  g.addTarget({ id: `${service}-${u.name}`, service, host: '127.0.0.1', port: u.port, onHealth: () => undefined });
}

export async function healthy(g: Gateway, service: string, n: number): Promise<void> {
  await waitFor(`${n} healthy ${service} target(s)`, async () => (await g.targetsOf(service)).filter((x) => x.healthy && !x.draining).length === n);
  // In rotation in HAProxy once the health check's answer went through the runtime API.
  await waitFor('the runtime API caught up', async () => (await g.targetsOf(service)).filter((x) => x.inRotation).length === n);
}

export const get = async (g: Gateway, path: string, headers: Record<string, string> = {}, method = 'GET', body?: string) => {
  const res = await fetch(`${g.url}${path}`, { method, headers, body });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, json, text };
};

