// The Restify server every service is built on: request ids, JSON bodies with a size limit,
// errors as {code, message} (restify's own 404/405/413 included), an access log without bodies
// or credentials, and the /healthz and /readyz probes.
import { randomUUID } from 'node:crypto';
import restify, { type Request, type Response, type Server } from 'restify';
import { ApiError, toApiError } from './errors.js';
import type { Logger } from './log.js';

export interface ApiServerOptions {
  name: string;
  log: Logger;
  maxBodyBytes: number;
  /** true while the service's dependencies answer (drives /readyz). */
  readiness: () => Promise<boolean>;
  /** true once shutdown started: /readyz turns 503 so load balancers stop sending traffic. */
  draining: () => boolean;
  /** What /readyz adds to its answer besides the status (e.g. which store the limits use). */
  readinessDetail?: () => Record<string, unknown>;
  accessLog?: boolean;
  /** Where access-log lines go (kit/log.ts's access logger); `log` by default. */
  accessLogger?: Logger;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;

const hasBody = (req: Request): boolean => Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;

export function createApiServer(opts: ApiServerOptions): Server {
  // restify 11 logs through pino; its typings (from restify 8) still name bunyan's Logger.
  const serverOptions: Record<string, unknown> = { name: opts.name, log: opts.log, handleUncaughtExceptions: false, strictFormatters: false };
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion -- tsc needs it, the linter sees looser types
  const server = restify.createServer(serverOptions as restify.ServerOptions);
  const log = opts.log;

  server.pre((req: Request, res: Response, next) => {
    // Accept a caller's request id only if it cannot smuggle anything into a log line.
    const incoming = req.headers['x-request-id'];
    (req as unknown as { id(id: string): string }).id(typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID());
    res.setHeader('x-request-id', req.id());
    // Every answer is JSON, whatever the client's Accept header says.
    (res as unknown as { contentType: string }).contentType = 'application/json';
    return next();
  });
  // Query string, media type and JSON body in one handler: restify runs each handler on its own
  // tick with timers around it, which a cheap GET (the catalog's product page) pays per handler.
  // Only requests that carry a body go through the body parser: restify's bodyReader would
  // otherwise wait for the end of an empty stream on every GET.
  const parseQuery = restify.plugins.queryParser({ mapParams: false, allowDots: false, plainObjects: true, depth: 1, parameterLimit: 50 });
  // restify's typings lag behind: jsonBodyParser accepts bodyReader's maxBodySize (413 above it).
  const parseJson = restify.plugins.jsonBodyParser({ maxBodySize: opts.maxBodyBytes, mapParams: false } as Parameters<typeof restify.plugins.jsonBodyParser>[0]);
  const parseBody = (req: Request, res: Response, next: restify.Next, i = 0): void => {
    const handler = parseJson[i];
    if (!handler) return void next();
    handler(req, res, ((err?: unknown) => (err ? next(err) : parseBody(req, res, next, i + 1))) as restify.Next);
  };
  server.use(function parseRequest(req: Request, res: Response, next: restify.Next): void {
    parseQuery(req, res, ((err?: unknown) => {
      if (err) return next(err);
      if (!hasBody(req)) return next();
      // Bodies are JSON or nothing: anything else is refused before it is read.
      if (!JSON_TYPE.test(req.headers['content-type'] ?? '')) {
        return next(new ApiError(415, 'UNSUPPORTED_MEDIA_TYPE', 'send the body as JSON with Content-Type: application/json'));
      }
      parseBody(req, res, next);
    }) as restify.Next);
  });

  server.on('restifyError', (req: Request, res: Response, err: unknown, cb: () => void) => {
    const api = toApiError(err, req.id());
    if (api.statusCode >= 500) {
      const e = err as { name?: string; message?: string; stack?: string; original?: { code?: string } };
      log.error({ reqId: req.id(), method: req.method, path: req.path(), err: { name: e?.name, message: e?.message, code: e?.original?.code, stack: e?.stack } }, 'request failed');
    }
    for (const [k, v] of Object.entries(api.headers ?? {})) res.header(k, v);
    if (typeof err === 'object' && err !== null) {
      // restify sends the error object it was given: give it our status and body.
      const body = api.toJSON();
      Object.defineProperty(err, 'statusCode', { value: api.statusCode, configurable: true, writable: true });
      Object.defineProperty(err, 'toJSON', { value: () => body, configurable: true, writable: true });
    }
    return cb();
  });

  if (opts.accessLog !== false) {
    const access = opts.accessLogger ?? log;
    server.on('after', (req: Request, res: Response) => {
      access.info({ reqId: req.id(), method: req.method, path: req.path(), status: res.statusCode, ms: Math.round((Date.now() - req.time()) * 10) / 10 }, 'request');
    });
  }

  server.get('/healthz', (_req: Request, res: Response, next) => {
    res.send(200, { status: 'ok' });
    return next();
  });
  server.get('/readyz', async (_req: Request, res: Response) => {
    const detail = opts.readinessDetail?.() ?? {};
    if (opts.draining()) {
      res.send(503, { code: 'DRAINING', message: 'shutting down' });
    } else if (await opts.readiness()) {
      res.send(200, { status: 'ready', ...detail });
    } else {
      res.send(503, { code: 'NOT_READY', message: 'a dependency (the database) is not reachable', ...detail });
    }
  });
  return server;
}
