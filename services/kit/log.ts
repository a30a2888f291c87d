// Structured JSON logs (pino). Anything that could carry a credential is redacted by path, and
// services log ids and shapes, never bodies, so passwords, tokens and secrets stay out of logs.
//
// Lines are batched: a write per access-log line costs a system call per request, a large share
// of a cheap request's CPU. The buffer goes out when it holds 4 KiB, every `bufferMs` (100 ms by
// default), at shutdown and on process exit (synchronously, so nothing is lost on process.exit).
// Errors and warnings are written at once. A bufferMs of 0 writes every line as it comes.
import { writeSync } from 'node:fs';
import { pino, type DestinationStream, type Logger } from 'pino';

export type { Logger };

export const REDACT_PATHS = [
  'password',
  '*.password',
  'token',
  '*.token',
  'secret',
  '*.secret',
  'privateKey',
  '*.privateKey',
  'authorization',
  '*.authorization',
  'headers.authorization',
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-service-token"]',
  'headers["x-service-token"]',
];

export const DEFAULT_LOG_BUFFER_MS = 100;
const FLUSH_BYTES = 4096;
/** pino's numeric level of `warn`: lines at this level or above are not held back. */
const WARN = 40;

/** Destinations with a timer, flushed synchronously when the process exits (one listener for all). */
const unflushed = new Set<BufferedDestination>();
process.on('exit', () => {
  for (const destination of unflushed) destination.flush();
});

/** A pino destination that batches lines into one write; `flush()` writes what is pending. */
export class BufferedDestination implements DestinationStream {
  private pending: string[] = [];
  private bytes = 0;
  private readonly timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly fd: number,
    bufferMs: number,
  ) {
    if (bufferMs > 0) {
      this.timer = setInterval(() => this.flush(), bufferMs);
      this.timer.unref();
      unflushed.add(this);
    }
  }

  write(line: string): void {
    if (this.timer === undefined) {
      writeAll(this.fd, line);
      return;
    }
    this.pending.push(line);
    this.bytes += line.length;
    if (this.bytes >= FLUSH_BYTES) this.flush();
  }

  /** Writes what is buffered, synchronously (also used at exit, when nothing asynchronous runs). */
  flush(): void {
    if (this.pending.length === 0) return;
    const text = this.pending.length === 1 ? this.pending[0]! : this.pending.join('');
    this.pending = [];
    this.bytes = 0;
    writeAll(this.fd, text);
  }

  /** Flushes and stops the timer (the logger stays usable: later lines are written at once). */
  close(): void {
    this.flush();
    if (this.timer !== undefined) {
      clearInterval(this.timer);
      unflushed.delete(this);
    }
  }
}

/** writeSync until every byte is out; a full non-blocking pipe (EAGAIN) is waited for briefly. */
function writeAll(fd: number, text: string): void {
  let buf = Buffer.from(text);
  let waits = 0;
  while (buf.length > 0) {
    try {
      buf = buf.subarray(writeSync(fd, buf));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // Nobody reads the logs any more: drop them rather than fail the request that logged.
      if (code === 'EPIPE') return;
      if (code !== 'EAGAIN' || ++waits > 1000) throw err;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
    }
  }
}

let isoMs = -1;
let isoField = '';
/**
 * pino's ISO timestamp, formatted once per millisecond: a busy service writes several lines per
 * millisecond, and formatting the date was half of pino's share of a product page's CPU profile.
 */
export function isoTimestamp(): string {
  const now = Date.now();
  if (now !== isoMs) {
    isoMs = now;
    isoField = `,"time":"${new Date(now).toISOString()}"`;
  }
  return isoField;
}

export interface LoggerOptions {
  level?: string;
  /** How long lines may wait in the buffer; 0 writes each line at once. */
  bufferMs?: number;
  /** Where lines go (file descriptor); stdout by default. */
  fd?: number;
}

export interface BufferedLogger {
  log: Logger;
  /**
   * The access log: the same lines, level and destination, without the redaction pass. Its lines
   * have a fixed set of fields (request id, method, path, status, time) and none of them can hold
   * a credential, so redaction would never change them; skipping it saves most of a line's cost.
   */
  access: Logger;
  /** Writes buffered lines now and stops the flush timer (at shutdown). */
  close(): void;
}

export function createBufferedLogger(service: string, opts: LoggerOptions = {}): BufferedLogger {
  const destination = new BufferedDestination(opts.fd ?? 1, opts.bufferMs ?? DEFAULT_LOG_BUFFER_MS);
  const options = {
    name: service,
    level: opts.level ?? 'info',
    base: { service, pid: process.pid },
    timestamp: isoTimestamp,
    formatters: { level: (label: string) => ({ level: label }) },
  };
  const log = pino(
    {
      ...options,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      hooks: {
        // A warning or an error goes out at once, with whatever was buffered before it.
        logMethod(args, method, level) {
          method.apply(this, args);
          if (level >= WARN) destination.flush();
        },
      },
    },
    destination,
  );
  const access = pino(options, destination);
  return { log, access, close: () => destination.close() };
}

export function createLogger(service: string, level = 'info'): Logger {
  return createBufferedLogger(service, { level }).log;
}
