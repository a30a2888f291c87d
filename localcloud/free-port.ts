// A free TCP port, for a worker, the gateway's first port or a private database server. It was
// free a moment ago: whoever binds it may still lose a race (a worker that does fails to start
// and is replaced).
import { createServer } from 'node:net';

/** `preferred` on `host` when it is free, else any port the system gives. */
export async function freePort(host: string, preferred?: number): Promise<number> {
  if (preferred) {
    const port = await listenOnce(host, preferred).catch(() => undefined);
    if (port) return port;
  }
  try {
    return await listenOnce(host, 0);
  } catch (err) {
    throw new Error(`no free TCP port on ${host}: ${(err as Error).message}`);
  }
}

function listenOnce(host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(port, host, () => {
      const addr = srv.address();
      const bound = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(bound));
    });
  });
}
