// A public read's answer (product page, listing, search): JSON bytes with a strong ETag computed
// from exactly those bytes, so every instance gives the same ETag for the same representation and
// changed content always gets a new one; sent cacheable by the edge for a few seconds and
// conditional (If-None-Match → 304 without the body).
import { hash } from 'node:crypto';
import type { Request, Response } from 'restify';
import { noneMatchHits } from './conditional.js';

/** A CDN may keep a public read for a few seconds and serve it stale while it revalidates. */
export const PUBLIC_READ_CACHE_CONTROL = 'public, max-age=5, stale-while-revalidate=30';

export interface Representation {
  body: Buffer;
  etag: string;
}

export const strongEtag = (body: Buffer): string => `"${hash('sha1', body, 'base64url')}"`;

export function represent(value: unknown): Representation {
  const body = Buffer.from(JSON.stringify(value));
  return { body, etag: strongEtag(body) };
}

/** Answers a public read: 304 when the client holds this ETag, the bytes otherwise. */
export function sendPublicRead(req: Request, res: Response, rep: Representation): void {
  if (noneMatchHits(req.headers['if-none-match'], rep.etag)) {
    res.sendRaw(304, '', { ETag: rep.etag, 'Cache-Control': PUBLIC_READ_CACHE_CONTROL });
    return;
  }
  res.sendRaw(200, rep.body, {
    'Content-Type': 'application/json',
    'Content-Length': String(rep.body.length),
    ETag: rep.etag,
    'Cache-Control': PUBLIC_READ_CACHE_CONTROL,
  });
}
