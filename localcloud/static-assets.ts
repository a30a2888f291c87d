// Static assets from a folder with the cache headers the CloudFront distribution gives them:
// content-hashed names are immutable for a year, HTML is revalidated every time, anything else
// is cached briefly; ETag / Last-Modified with 304s, ranges and HEAD come from `send`.
import type { IncomingMessage, ServerResponse } from 'node:http';
import send from 'send';

/** `app.3f9a1c2b.js`, `main-BXk2_9aQ.css`: a name part of 8+ characters mixing letters and digits. */
const HASHED = /[.-](?=[A-Za-z0-9_]*\d)(?=[A-Za-z0-9_]*[A-Za-z])[A-Za-z0-9_]{8,}\.[A-Za-z0-9]+$/;

export const IMMUTABLE = 'public, max-age=31536000, immutable';
export const REVALIDATE = 'public, max-age=0, must-revalidate';
export const SHORT = 'public, max-age=300';

export function cacheControlFor(path: string): string {
  if (HASHED.test(path)) return IMMUTABLE;
  if (/\.html?$/i.test(path) || path.endsWith('/')) return REVALIDATE;
  return SHORT;
}

export function serveStatic(req: IncomingMessage, res: ServerResponse, root: string, pathname: string, fail: (status: number, code: string, message: string) => void): void {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('allow', 'GET, HEAD');
    return fail(405, 'METHOD_NOT_ALLOWED', `${req.method} is not allowed on static assets; use GET or HEAD`);
  }
  send(req, pathname, { root, cacheControl: false, dotfiles: 'ignore', index: ['index.html'], etag: true, lastModified: true })
    .on('headers', (r: ServerResponse, filePath: string) => {
      r.setHeader('cache-control', cacheControlFor(filePath));
      r.setHeader('x-content-type-options', 'nosniff');
    })
    .on('directory', () => fail(404, 'NOT_FOUND', `no asset at ${pathname}`))
    .on('error', (err: { status?: number; statusCode?: number }) => {
      const status = err.status ?? err.statusCode ?? 500;
      if (status === 404) return fail(404, 'NOT_FOUND', `no asset at ${pathname}`);
      if (status >= 500) return fail(500, 'INTERNAL', 'the asset could not be read');
      return fail(status, 'BAD_REQUEST', 'the asset path is not valid');
    })
    .pipe(res);
}
