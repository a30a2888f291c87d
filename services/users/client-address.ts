// Who the client is: the socket's address with no proxy in front, otherwise the address the
// outermost trusted proxy saw. Each proxy appends the address it received the request from to
// X-Forwarded-For, so with `hops` trusted proxies the entry `hops` from the end is the client's;
// anything before it is whatever the client sent and is not believed.
import type { Request } from 'restify';

export function clientAddress(req: Pick<Request, 'headers' | 'socket'>, trustedProxyHops: number): string {
  const socketAddress = normalise(req.socket.remoteAddress ?? 'unknown');
  if (trustedProxyHops === 0) return socketAddress;
  const header = req.headers['x-forwarded-for'];
  const joined = Array.isArray(header) ? header.join(',') : (header ?? '');
  const chain = joined.split(',').map((s) => s.trim()).filter(Boolean);
  // Fewer entries than proxies: a proxy was bypassed or appends nothing; the farthest entry is
  // still one a proxy wrote, and without any the socket's address is all there is.
  const entry = chain.length >= trustedProxyHops ? chain[chain.length - trustedProxyHops] : chain[0];
  return entry ? normalise(entry) : socketAddress;
}

/** One spelling per address: IPv4 seen on a dual-stack socket (::ffff:127.0.0.2) is 127.0.0.2. */
function normalise(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}
