// The supervisor's control API: HTTP on a unix socket in the local folder (only its owner can
// reach it, no port to find or to guard with a token). The socket's path: local-paths.ts.
//   GET  /state   -> 200 LocalState (what state.json holds, fresh; environment/local-state.ts)
//   POST /apply   body: fleet spec (fleet-spec.ts) -> 200 NDJSON: {"progress":{service,message}}*
//                 then {"result": ApplyResult (supervisor.ts)} or {"error": {code, message}};
//                 400 {code, message} if the spec is invalid
//   POST /stop    -> 200 {"stopped": true, "pids": [...]} once every worker has exited
import { chmod, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { FleetSpecError, parseFleetSpec } from './fleet-spec.js';
import type { Supervisor } from './supervisor.js';

const MAX_SPEC_BYTES = 1024 * 1024;

export async function startControlServer(supervisor: Supervisor, socketPath: string, onStopped: () => void): Promise<Server> {
  await rm(socketPath, { force: true });
  const server = createServer((req, res) => {
    handle(supervisor, req, res, onStopped).catch((err: Error) => json(res, 500, { code: 'INTERNAL', message: err.message }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => {
      server.off('error', reject);
      resolve();
    });
  });
  await chmod(socketPath, 0o600);
  return server;
}

async function handle(supervisor: Supervisor, req: IncomingMessage, res: ServerResponse, onStopped: () => void): Promise<void> {
  const route = `${req.method} ${req.url}`;
  if (route === 'GET /state') return json(res, 200, supervisor.state());
  if (route === 'POST /stop') {
    const { pids } = await supervisor.stop();
    json(res, 200, { stopped: true, pids });
    res.once('finish', onStopped);
    return;
  }
  if (route === 'POST /apply') {
    let spec;
    try {
      spec = parseFleetSpec(JSON.parse(await readText(req)));
    } catch (err) {
      const message = err instanceof FleetSpecError ? err.message : `the fleet spec is not valid JSON: ${(err as Error).message}`;
      return json(res, 400, { code: 'INVALID_SPEC', message });
    }
    res.writeHead(200, { 'content-type': 'application/x-ndjson' });
    const line = (o: unknown) => res.write(`${JSON.stringify(o)}\n`);
    try {
      const result = await supervisor.apply(spec, (service, message) => line({ progress: { service, message } }));
      line({ result });
    } catch (err) {
      line({ error: { code: 'APPLY_FAILED', message: (err as Error).message } });
    }
    res.end();
    return;
  }
  json(res, 404, { code: 'NOT_FOUND', message: 'use GET /state, POST /apply or POST /stop' });
}

function readText(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_SPEC_BYTES) reject(new Error('larger than 1 MiB'));
      else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function json(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) return void res.end();
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
