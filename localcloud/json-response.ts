// An error answer as JSON {code, message}, the shape every error of the shop has.
import type { ServerResponse } from 'node:http';

export function sendJson(res: ServerResponse, status: number, body: { code: string; message: string }): void {
  if (res.headersSent || res.destroyed) return void res.destroy();
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'cache-control': 'no-store' });
  res.end(text);
}
