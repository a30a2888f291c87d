// The wire: autocannon's programmatic API underneath, turned from closed-model to open-model.
//
// autocannon keeps `connections` keep-alive sockets and, on each one, sends the next request the
// moment the previous response completes (Client#_doRequest, called after connecting and after
// every response). That is a closed model: when the server stalls, autocannon stops sending and
// the stall is hidden (coordinated omission). Here every autocannon client is a connection of a
// pool that the scheduler feeds: `setupClient` (autocannon's public hook) wraps _doRequest so that
// it sends only a request the scheduler has released, and otherwise parks the connection as idle
// until one is released. Requests that find no idle connection wait in a FIFO queue; the latency
// clock of each request starts at its intended time, not when a connection takes it, so waiting
// for a connection counts. autocannon still does the sockets, reconnects, timeouts, HTTP parsing
// and byte counting, and its own totals are kept as a cross-check.
//
// The two autocannon internals relied on (pinned to autocannon 9.0.0 in package.json):
//   - Client#_doRequest is the one place a request is written (wrapped, never reimplemented);
//   - the request object given to client.setRequests() is the one autocannon sends from, so
//     setting its requestBuffer (and onResponse) chooses the bytes of the next request.
// test/loadtest/wire.test.ts fails if either stops holding.
import autocannon from 'autocannon';
import { performance } from 'node:perf_hooks';

export interface WireResponse {
  /** HTTP status, 0 when no response arrived. */
  status: number;
  /** Why no response arrived. */
  error: 'timeout' | 'connection' | 'aborted' | undefined;
  /** Body and lower-cased headers, only when the request asked for them. */
  body: string | undefined;
  headers: Record<string, string> | undefined;
  /** performance.now() when a connection wrote the request (NaN when it never did). */
  sentAt: number;
  doneAt: number;
}

export interface WireRequest {
  bytes: Buffer;
  needsResponse: boolean;
  done(res: WireResponse): void;
}

export interface WireOptions {
  url: string;
  connections: number;
  timeoutMs: number;
}

interface OwnRequest {
  method: string;
  path: string;
  requestBuffer?: Buffer;
  onResponse?: (status: number, body: string, context: unknown, headers: Record<string, string | string[]>) => void;
}

interface AutocannonClient extends autocannon.Client {
  _doRequest(): void;
  destroyed: boolean;
}

class Connection {
  job: WireRequest | null = null;
  sentAt = 0;
  idle = false;
  /** The server said it will close this socket after the current response. */
  closing = false;
  body: string | undefined;
  headers: Record<string, string> | undefined;
  constructor(
    readonly client: AutocannonClient,
    readonly own: OwnRequest,
    readonly send: () => void,
  ) {}
}

export class Wire {
  private readonly queue: WireRequest[] = [];
  private queueHead = 0;
  private readonly idle: Connection[] = [];
  private readonly connections: Connection[] = [];
  private instance: autocannon.Instance | undefined;
  private finished: Promise<autocannon.Result> | undefined;
  private closed = false;
  readonly hostHeader: string;
  inFlight = 0;

  constructor(private readonly opts: WireOptions) {
    this.hostHeader = new URL(opts.url).host;
  }

  start(): void {
    let refused: unknown;
    this.finished = new Promise((resolve, reject) => {
      this.instance = autocannon(
        {
          url: this.opts.url,
          connections: this.opts.connections,
          pipelining: 1,
          timeout: this.opts.timeoutMs / 1000,
          // Stopped explicitly by close(); the duration is only a backstop under setTimeout's limit.
          duration: 20 * 24 * 3600,
          // how often autocannon checks whether it was stopped
          sampleInt: 100,
          setupClient: (client) => this.adopt(client as AutocannonClient),
        },
        (err, result) => {
          if (err) {
            refused = err;
            reject(err instanceof Error ? err : new Error(String(err)));
          } else resolve(result);
        },
      );
    });
    this.finished.catch(() => undefined);
    // autocannon refuses bad options synchronously, through the callback.
    if (refused) throw new Error(`autocannon refused its options: ${refused instanceof Error ? refused.message : JSON.stringify(refused)}`);
  }

  /** Requests waiting for a free connection. */
  get queued(): number {
    return this.queue.length - this.queueHead;
  }

  get idleConnections(): number {
    return this.idle.length;
  }

  /** Sends now on an idle connection, or queues until one is free. */
  send(req: WireRequest): void {
    if (this.closed) {
      req.done(failed('aborted', NaN));
      return;
    }
    const conn = this.idle.pop();
    if (conn) {
      conn.idle = false;
      this.dispatch(conn, req);
    } else {
      this.queue.push(req);
    }
  }

  private take(): WireRequest | undefined {
    if (this.queueHead >= this.queue.length) return undefined;
    const req = this.queue[this.queueHead];
    this.queue[this.queueHead++] = undefined as unknown as WireRequest;
    if (this.queueHead > 4096 && this.queueHead * 2 > this.queue.length) {
      this.queue.splice(0, this.queueHead);
      this.queueHead = 0;
    }
    return req;
  }

  private adopt(client: AutocannonClient): void {
    const own: OwnRequest = { method: 'GET', path: '/' };
    client.setRequests([own as autocannon.Request]);
    const conn = new Connection(client, own, client._doRequest.bind(client));
    this.connections.push(conn);
    client._doRequest = () => this.ready(conn);
    client.on('response', (status: number) => this.complete(conn, status));
    // autocannon passes the parser's header info (typed as plain headers in @types/autocannon).
    (client as NodeJS.EventEmitter).on('headers', (info: { shouldKeepAlive?: boolean }) => {
      if (info.shouldKeepAlive === false) conn.closing = true;
    });
  }

  /** autocannon calls this when the connection can take a request: after (re)connecting and after a response. */
  private ready(conn: Connection): void {
    if (conn.job) {
      // The socket was replaced while a request was in flight: a timeout or a broken connection.
      const timedOut = performance.now() - conn.sentAt >= this.opts.timeoutMs - 1;
      this.finish(conn, failed(timedOut ? 'timeout' : 'connection', conn.sentAt));
    }
    if (conn.closing) {
      // Wait for autocannon to reconnect (it calls ready() again) rather than write to a closing socket.
      conn.closing = false;
      return;
    }
    if (conn.client.destroyed || this.closed) return;
    const next = this.take();
    if (next) this.dispatch(conn, next);
    else if (!conn.idle) {
      conn.idle = true;
      this.idle.push(conn);
    }
  }

  private dispatch(conn: Connection, req: WireRequest): void {
    conn.job = req;
    conn.body = undefined;
    conn.headers = undefined;
    conn.own.requestBuffer = req.bytes;
    conn.own.onResponse = req.needsResponse ? (_status, body, _ctx, headers) => capture(conn, body, headers) : undefined;
    this.inFlight++;
    conn.sentAt = performance.now();
    conn.send();
  }

  private complete(conn: Connection, status: number): void {
    if (!conn.job) return;
    this.finish(conn, { status, error: undefined, body: conn.body, headers: conn.headers, sentAt: conn.sentAt, doneAt: performance.now() });
  }

  private finish(conn: Connection, res: WireResponse): void {
    const job = conn.job!;
    conn.job = null;
    this.inFlight--;
    job.done(res);
  }

  /** Stops autocannon; whatever is still queued or in flight ends as 'aborted'. Returns autocannon's own totals. */
  async close(): Promise<autocannon.Result | undefined> {
    if (this.closed) return undefined;
    this.closed = true;
    for (let req = this.take(); req; req = this.take()) req.done(failed('aborted', NaN));
    for (const conn of this.connections) if (conn.job) this.finish(conn, failed('aborted', conn.sentAt));
    this.instance?.stop();
    return this.finished?.catch(() => undefined);
  }
}

function failed(error: WireResponse['error'], sentAt: number): WireResponse {
  return { status: 0, error, body: undefined, headers: undefined, sentAt, doneAt: performance.now() };
}

function capture(conn: Connection, body: string, headers: Record<string, string | string[]>): void {
  conn.body = body;
  const lower: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) lower[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v;
  conn.headers = lower;
}

/** The bytes of one HTTP/1.1 request (keep-alive), as autocannon's request builder would write them. */
export function requestBytes(method: string, path: string, host: string, headers: Array<[string, string]>, body: string | undefined): Buffer {
  let head = `${method} ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: keep-alive\r\nUser-Agent: saleday-loadtest\r\n`;
  for (const [k, v] of headers) head += `${k}: ${v.replace(/[\r\n]/g, '')}\r\n`;
  if (body === undefined) return Buffer.from(`${head}\r\n`);
  const payload = Buffer.from(body);
  return Buffer.concat([Buffer.from(`${head}Content-Length: ${payload.length}\r\n\r\n`), payload]);
}
