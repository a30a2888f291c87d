// API errors: every failure leaves a service as JSON {code, message} with the right status.
// Handlers throw ApiError; anything else is mapped here (database outages become 503, the rest 500
// with a message that carries only the request id, never internal details).
import { BaseError as SequelizeBaseError, ConnectionError, TimeoutError } from 'sequelize';

export class ApiError extends Error {
  readonly statusCode: number;
  readonly code: string;
  readonly details: Record<string, unknown> | undefined;
  readonly headers: Record<string, string> | undefined;

  constructor(
    statusCode: number,
    code: string,
    message: string,
    details?: Record<string, unknown>,
    headers?: Record<string, string>,
  ) {
    super(message);
    this.name = 'ApiError';
    this.statusCode = statusCode;
    this.code = code;
    this.details = details;
    this.headers = headers;
  }

  toJSON(): Record<string, unknown> {
    return { code: this.code, message: this.message, ...this.details };
  }
}

export const badRequest = (message: string, details?: Record<string, unknown>): ApiError =>
  new ApiError(400, 'VALIDATION_FAILED', message, details);
export const unauthorized = (message = 'authentication required'): ApiError =>
  new ApiError(401, 'UNAUTHORIZED', message, undefined, { 'WWW-Authenticate': 'Bearer' });
export const forbidden = (message = 'not allowed'): ApiError => new ApiError(403, 'FORBIDDEN', message);
export const notFound = (message = 'not found'): ApiError => new ApiError(404, 'NOT_FOUND', message);
export const conflict = (code: string, message: string, details?: Record<string, unknown>): ApiError =>
  new ApiError(409, code, message, details);
export const tooManyRequests = (retryAfterSeconds: number, message = 'too many requests, retry later'): ApiError =>
  new ApiError(429, 'TOO_MANY_REQUESTS', message, { retryAfter: retryAfterSeconds }, { 'Retry-After': String(retryAfterSeconds) });
export const serviceUnavailable = (code: string, message: string, retryAfterSeconds = 1): ApiError =>
  new ApiError(503, code, message, undefined, { 'Retry-After': String(retryAfterSeconds) });

/** restify's own error names (router, body parser) → our codes, so 404/405/413 share one shape. */
const RESTIFY_CODES: Record<string, string> = {
  ResourceNotFound: 'NOT_FOUND',
  NotFound: 'NOT_FOUND',
  MethodNotAllowed: 'METHOD_NOT_ALLOWED',
  PayloadTooLarge: 'PAYLOAD_TOO_LARGE',
  RequestEntityTooLarge: 'PAYLOAD_TOO_LARGE',
  InvalidContent: 'MALFORMED_JSON',
  BadRequest: 'BAD_REQUEST',
  UnsupportedMediaType: 'UNSUPPORTED_MEDIA_TYPE',
  NotAcceptable: 'NOT_ACCEPTABLE',
  BadDigest: 'BAD_REQUEST',
  RequestExpired: 'REQUEST_EXPIRED',
  UriTooLong: 'URI_TOO_LONG',
};

export function isDatabaseUnavailable(err: unknown): boolean {
  return err instanceof ConnectionError || err instanceof TimeoutError ||
    (err instanceof SequelizeBaseError && err.name === 'SequelizeConnectionAcquireTimeoutError');
}

/** Turns anything thrown into an ApiError. `requestId` goes into the message of an unexpected error. */
export function toApiError(err: unknown, requestId: string): ApiError {
  if (err instanceof ApiError) return err;
  if (isDatabaseUnavailable(err)) {
    return serviceUnavailable('DATABASE_UNAVAILABLE', 'the database is unavailable, retry shortly', 1);
  }
  const e = err as { statusCode?: unknown; body?: { code?: unknown; message?: unknown }; name?: unknown; message?: unknown };
  if (typeof e?.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    const restifyCode = typeof e.body?.code === 'string' ? e.body.code : (typeof e.name === 'string' ? e.name : '').replace(/Error$/, '');
    const code = RESTIFY_CODES[restifyCode] ?? restifyCode.replace(/([a-z])([A-Z])/g, '$1_$2').toUpperCase();
    const message = e.statusCode === 400 && code === 'MALFORMED_JSON'
      ? 'request body is not valid JSON'
      : typeof e.body?.message === 'string' && e.body.message !== '' ? e.body.message : typeof e.message === 'string' ? e.message : code;
    return new ApiError(e.statusCode, code || 'BAD_REQUEST', message);
  }
  return new ApiError(500, 'INTERNAL', `internal error (request id ${requestId})`);
}
