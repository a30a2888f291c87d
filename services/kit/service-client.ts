// The small HTTP client one service uses to call another: a keep-alive connection pool (undici),
// a deadline per call, the service credential on every request, JSON in and out. Retries are
// limited to calls that are safe to repeat: any call whose connection could not be opened (the
// request never left), and idempotent calls (GET, or a call marked idempotent) after a reset, a
// timeout or a 502/503/504. A non-idempotent call whose outcome is unknown is never repeated; the
// caller learns that from UpstreamError.outcomeUnknown.
import { Pool, errors as undiciErrors } from 'undici';
import { ApiError } from './errors.js';

export interface ServiceClientOptions {
  /** The called service's name, used in error messages and logs. */
  name: string;
  baseUrl: string;
  /** Keep-alive connections to the service (requests beyond it queue). */
  connections?: number;
  /** Deadline for one attempt, from queueing to the end of the body. */
  timeoutMs?: number;
  connectTimeoutMs?: number;
  /** Attempts after the first for calls that are safe to repeat. */
  retries?: number;
  /** Extra headers for every call (the service credential). */
  headers?: () => Promise<Record<string, string>> | Record<string, string>;
  /**
   * On a 401 (the called service refused the credential: a rotation this instance has not seen
   * yet): re-read the credential and resolve true to repeat the call once. A refusal happens
   * before the call acts, so repeating even a non-idempotent call is safe.
   */
  onUnauthorized?: (sentHeaders: Record<string, string>) => Promise<boolean>;
}

export interface CallOptions {
  body?: unknown;
  /** Repeating the call has the same effect as making it once (commit, release, PUT). */
  idempotent?: boolean;
  headers?: Record<string, string>;
  timeoutMs?: number;
}

export interface ServiceResponse<T = unknown> {
  status: number;
  body: T;
}

/** The called service could not be reached or did not answer in time: a 503 for our own caller. */
export class UpstreamError extends ApiError {
  constructor(
    readonly upstream: string,
    /** true when the request may have reached the service (its effect may have happened). */
    readonly outcomeUnknown: boolean,
    readonly reason: string,
  ) {
    super(503, 'UPSTREAM_UNAVAILABLE', `the ${upstream} service is unavailable, retry shortly`, undefined, { 'Retry-After': '1' });
    this.name = 'UpstreamError';
  }
}

const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);
const RETRYABLE_STATUS = new Set([502, 503, 504]);

export class ServiceClient {
  private readonly pool: Pool;
  private readonly timeoutMs: number;
  private readonly retries: number;

  constructor(private readonly opts: ServiceClientOptions) {
    const url = new URL(opts.baseUrl);
    this.pool = new Pool(url.origin, {
      connections: opts.connections ?? 32,
      keepAliveTimeout: 4_000,
      connectTimeout: opts.connectTimeoutMs ?? 2_000,
    });
    this.timeoutMs = opts.timeoutMs ?? 5_000;
    this.retries = opts.retries ?? 2;
  }

  get name(): string {
    return this.opts.name;
  }

  get(path: string, opts: Omit<CallOptions, 'body' | 'idempotent'> = {}): Promise<ServiceResponse> {
    return this.call('GET', path, { ...opts, idempotent: true });
  }

  post(path: string, opts: CallOptions = {}): Promise<ServiceResponse> {
    return this.call('POST', path, opts);
  }

  /** One call; resolves with any HTTP status the service answered (the caller interprets 4xx). */
  async call(method: string, path: string, opts: CallOptions = {}): Promise<ServiceResponse> {
    const idempotent = opts.idempotent ?? (method === 'GET' || method === 'HEAD' || method === 'PUT' || method === 'DELETE');
    let refreshedCredential = false;
    for (let attempt = 0; ; attempt++) {
      try {
        const extra = (await this.opts.headers?.()) ?? {};
        let res = await this.once(method, path, opts, extra);
        if (res.status === 401 && !refreshedCredential && this.opts.onUnauthorized) {
          refreshedCredential = true;
          if (await this.opts.onUnauthorized(extra)) res = await this.once(method, path, opts, (await this.opts.headers?.()) ?? {});
        }
        if (idempotent && RETRYABLE_STATUS.has(res.status) && attempt < this.retries) {
          await backoff(attempt);
          continue;
        }
        return res;
      } catch (err) {
        const code = (err as { code?: string }).code ?? '';
        const notSent = NOT_SENT_CODES.has(code);
        if ((notSent || idempotent) && attempt < this.retries) {
          await backoff(attempt);
          continue;
        }
        throw new UpstreamError(this.opts.name, !notSent, code || (err as Error).name);
      }
    }
  }

  private async once(method: string, path: string, opts: CallOptions, extra: Record<string, string>): Promise<ServiceResponse> {
    const headers: Record<string, string> = { accept: 'application/json', ...extra, ...opts.headers };
    let payload: string | undefined;
    if (opts.body !== undefined) {
      payload = JSON.stringify(opts.body);
      headers['content-type'] = 'application/json';
    }
    const timeout = opts.timeoutMs ?? this.timeoutMs;
    const res = await this.pool.request({
      method: method as 'GET',
      path,
      headers,
      body: payload,
      signal: AbortSignal.timeout(timeout),
      headersTimeout: timeout,
      bodyTimeout: timeout,
    });
    const text = await res.body.text();
    let body: unknown = undefined;
    if (text !== '') {
      try {
        body = JSON.parse(text);
      } catch {
        throw Object.assign(new undiciErrors.UndiciError('the service answered with a body that is not JSON'), { code: 'BAD_UPSTREAM_BODY' });
      }
    }
    return { status: res.statusCode, body };
  }

  async close(): Promise<void> {
    await this.pool.close();
  }
}

function backoff(attempt: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 50 * 2 ** attempt + Math.random() * 25));
}
