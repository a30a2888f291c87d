// The gateway's HAProxy configuration and error pages, rendered from the gateway's settings and
// routes (pure: the same input gives the same text, so the supervisor reloads HAProxy only when
// the text changed). Workers come and go through the runtime API, never a reload: each service's
// backend has SLOTS server slots, in maintenance until a worker is put in one. The catalog's public
// reads are cached briefly (edge-cache.ts), as CloudFront does on AWS.
import { EDGE_CACHE, edgeCacheBackend, edgeCacheGlobal, edgeCacheSection } from './edge-cache.js';

export interface HaproxySettings {
  host: string;
  port: number;
  /** The admin socket (runtime API). */
  runtimeSocket: string;
  /** Server states saved before a reload and loaded by the new process. */
  stateFile: string;
  /** Where the error pages are written (errorPages() below). */
  errorDir: string;
  /** The static origin (static-main.ts) for every path no service is routed at, if any. */
  staticPort?: number;
  upstreamTimeoutMs: number;
  /** Longest a client may take to send a request's headers (slow clients, slowloris). */
  requestTimeoutMs: number;
  maxBodyBytes: number;
  /** service -> path prefixes */
  routes: Record<string, string[]>;
}

export const SLOTS = 72;
export const IDEMPOTENT = ['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE'];

export const backendOf = (service: string) => `be_${service}`;
export const slotName = (n: number) => `w${n}`;

interface ErrorPage {
  status: number;
  reason: string;
  code: string;
  message: string;
}

/** The gateway's own errors as JSON {code, message}, one file per status (and per service). */
export function errorPages(s: Pick<HaproxySettings, 'routes' | 'upstreamTimeoutMs'>): Record<string, string> {
  const pages: Record<string, string> = {
    '400.http': page({ status: 400, reason: 'Bad Request', code: 'BAD_REQUEST', message: 'the request is not valid HTTP/1.x (one Host header, HTTP/1.0 or 1.1); send HTTP/1.1' }),
    '408.http': page({ status: 408, reason: 'Request Timeout', code: 'REQUEST_TIMEOUT', message: 'the request took too long to arrive' }),
    '500.http': page({ status: 500, reason: 'Internal Server Error', code: 'INTERNAL', message: 'the gateway failed to handle the request' }),
    '502.http': page({ status: 502, reason: 'Bad Gateway', code: 'BAD_GATEWAY', message: 'the service closed the connection before answering' }),
    '503.http': page({ status: 503, reason: 'Service Unavailable', code: 'SERVICE_UNAVAILABLE', message: 'no healthy worker is in service; try again shortly' }),
    '504.http': page({ status: 504, reason: 'Gateway Timeout', code: 'GATEWAY_TIMEOUT', message: `the service did not answer within ${s.upstreamTimeoutMs} ms` }),
  };
  for (const service of Object.keys(s.routes)) {
    pages[`${service}-502.http`] = page({ status: 502, reason: 'Bad Gateway', code: 'BAD_GATEWAY', message: `the ${service} service closed the connection before answering` });
    pages[`${service}-503.http`] = page({ status: 503, reason: 'Service Unavailable', code: 'SERVICE_UNAVAILABLE', message: `no healthy ${service} worker is in service; try again shortly` });
    pages[`${service}-504.http`] = page({ status: 504, reason: 'Gateway Timeout', code: 'GATEWAY_TIMEOUT', message: `the ${service} service did not answer within ${s.upstreamTimeoutMs} ms` });
  }
  return pages;
}

function page(p: ErrorPage): string {
  const body = JSON.stringify({ code: p.code, message: p.message });
  return `HTTP/1.1 ${p.status} ${p.reason}\r\ncontent-type: application/json\r\ncache-control: no-store\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`;
}

export function renderHaproxyConfig(s: HaproxySettings): string {
  const err = (name: string) => `${s.errorDir}/${name}`;
  const routes = Object.entries(s.routes)
    .flatMap(([service, prefixes]) => prefixes.map((prefix) => ({ service, prefix })))
    .sort((a, b) => b.prefix.length - a.prefix.length || a.prefix.localeCompare(b.prefix));
  const acl = (i: number) => `route_${i}`;
  const cached = EDGE_CACHE.service in s.routes;
  const lines = [
    '# Rendered by localcloud/haproxy-config.ts; reloaded by the supervisor when it changes.',
    'global',
    `  stats socket ${s.runtimeSocket} mode 600 level admin expose-fd listeners`,
    `  server-state-file ${s.stateFile}`,
    '  maxconn 4000',
    // One thread: on the local target HAProxy shares its cores with the workers and the load
    // generator, and a second thread only adds wakeups and cross-thread handoffs there (bench
    // gateway: its CPU per request is the figure to watch). An ALB is not this process anyway.
    '  nbthread 1',
    '  hard-stop-after 60s',
    ...(cached ? edgeCacheGlobal() : []),
    '',
    ...(cached ? [...edgeCacheSection(), ''] : []),
    'defaults',
    '  mode http',
    '  load-server-state-from-file global',
    '  option http-keep-alive',
    '  option forwardfor',
    '  option redispatch 1',
    // A connection that never sends a byte is closed silently, not answered 408: load generators
    // and browsers open connections before they need them, and an answer nobody asked for breaks
    // their parsers. A slow client that started its headers still gets 408.
    '  option http-ignore-probes',
    '  retries 2',
    // A connection refused is retried on another worker for any method (nothing was sent); a
    // connection closed before any answer only for idempotent methods (disable-l7-retry below).
    '  retry-on conn-failure empty-response',
    '  timeout connect 2s',
    '  timeout client 65s',
    '  timeout http-keep-alive 65s',
    `  timeout http-request ${s.requestTimeoutMs}`,
    `  timeout server ${s.upstreamTimeoutMs}`,
    '  timeout queue 5s',
    ...['400', '408', '500', '502', '503', '504'].map((c) => `  errorfile ${c} ${err(`${c}.http`)}`),
    '',
    'frontend gateway',
    `  bind ${s.host}:${s.port}`,
    `  acl idempotent method ${IDEMPOTENT.join(' ')}`,
    '  acl http1 req.ver 1.0',
    '  acl http1 req.ver 1.1',
    // HAProxy refuses HTTP/0.9 and different Host headers itself; HTTP/2.0 or 0.9 on a
    // request line, and repeated Host headers, are refused here (400, connection closed).
    '  http-request deny deny_status 400 if !http1',
    '  http-request deny deny_status 400 if { req.fhdr_cnt(host) gt 1 }',
    '  http-request set-header x-request-id %[uuid] unless { req.hdr(x-request-id) -m reg ^[A-Za-z0-9._:-]{1,128}$ }',
    '  http-request set-var(txn.request_id) req.hdr(x-request-id)',
    '  http-after-response set-header x-request-id %[var(txn.request_id)]',
    '  http-request set-header x-forwarded-proto http',
    '  http-request set-header x-forwarded-host %[req.hdr(host)] if { req.hdr(host) -m found }',
    '  http-request del-header x-forwarded-host unless { req.hdr(host) -m found }',
    '  http-request disable-l7-retry unless idempotent',
    `  http-request return status 413 content-type application/json string '${JSON.stringify({ code: 'PAYLOAD_TOO_LARGE', message: `request bodies are limited to ${s.maxBodyBytes} bytes` })}' hdr cache-control no-store if { req.hdr_val(content-length) gt ${s.maxBodyBytes} }`,
    // Two lines of one name are or-ed: the prefix itself, or below it on a segment boundary.
    ...routes.flatMap((r, i) => (r.prefix === '/' ? [`  acl ${acl(i)} path_beg /`] : [`  acl ${acl(i)} path ${r.prefix}`, `  acl ${acl(i)} path_beg ${r.prefix}/`])),
    ...routes.map((r, i) => `  use_backend ${backendOf(r.service)} if ${acl(i)}`),
  ];
  const unrouted = routes.map((_r, i) => `!${acl(i)}`).join(' ');
  const notFound = `http-request return status 404 content-type application/json lf-string '{"code":"NOT_FOUND","message":"nothing is routed at %[path,json(utf8s)]"}' hdr cache-control no-store`;
  if (s.staticPort) {
    lines.push(`  ${notFound} if { path_beg /api/ } ${unrouted}`.trimEnd());
    lines.push('  default_backend be_static');
  } else {
    lines.push(`  ${notFound} ${unrouted ? `if ${unrouted}` : ''}`.trimEnd());
  }
  for (const service of Object.keys(s.routes).sort()) {
    lines.push('', `backend ${backendOf(service)}`, '  balance leastconn');
    if (service === EDGE_CACHE.service) lines.push(...edgeCacheBackend());
    for (const c of ['502', '503', '504']) lines.push(`  errorfile ${c} ${err(`${service}-${c}.http`)}`);
    for (let n = 1; n <= SLOTS; n++) lines.push(`  server ${slotName(n)} 127.0.0.1:1 disabled`);
  }
  if (s.staticPort) lines.push('', 'backend be_static', `  server static 127.0.0.1:${s.staticPort}`);
  return `${lines.join('\n')}\n`;
}
