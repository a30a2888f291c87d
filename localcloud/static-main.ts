// The static origin behind the gateway (CloudFront's S3 origin, locally):
// `node dist/localcloud/static-main.js --root <dir> --port <port>`. HAProxy sends it every path
// that no service is routed at; it serves the storefront with static-assets.ts's cache headers
// and answers its own errors as JSON {code, message}. A process of its own, beside the gateway,
// so that the storefront does not depend on the supervisor either.
import { createServer } from 'node:http';
import { sendJson } from './json-response.js';
import { serveStatic } from './static-assets.js';

const arg = (name: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const root = arg('root');
const port = Number(arg('port'));
if (!root || !Number.isInteger(port)) {
  process.stderr.write('usage: static-main.js --root <dir> --port <port> [--host <host>]\n');
  process.exit(2);
}
const server = createServer((req, res) => {
  let pathname: string;
  try {
    pathname = new URL(req.url ?? '/', 'http://static').pathname;
  } catch {
    return sendJson(res, 400, { code: 'BAD_REQUEST', message: 'the request target is not a valid path' });
  }
  serveStatic(req, res, root, pathname, (status, code, message) => sendJson(res, status, { code, message }));
});
server.keepAliveTimeout = 70_000;
server.listen(port, arg('host') ?? '127.0.0.1');
process.once('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeIdleConnections();
});
