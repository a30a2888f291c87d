// Conditional requests (RFC 9110 §13.1). Evaluated on the ETag alone: a request's Cache-Control
// (browsers' fetch adds `no-cache` to conditional requests) does not stop an origin from
// answering 304, which is why the `fresh` package (proxy semantics) is not used here.

function tags(header: string): string[] {
  return header.split(',').map((t) => t.trim()).filter(Boolean);
}

const opaque = (tag: string): string => (tag.startsWith('W/') ? tag.slice(2) : tag);

/** If-None-Match: weak comparison, `*` matches any current representation. */
export function noneMatchHits(header: string | string[] | undefined, etag: string): boolean {
  if (typeof header !== 'string') return false;
  return tags(header).some((tag) => tag === '*' || opaque(tag) === etag);
}

/** If-Match: strong comparison (a weak tag never matches), `*` matches any current representation. */
export function matchHits(header: string, etag: string): boolean {
  return tags(header).some((tag) => tag === '*' || tag === etag);
}
