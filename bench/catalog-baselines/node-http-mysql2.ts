// Baseline (ii) of the catalog benchmark: raw node:http + mysql2.
import { createServer } from 'node:http';
import { port, productBySku } from './db.js';

const PATH = /^\/api\/catalog\/products\/([^/?#]+)$/;

createServer((req, res) => {
  const m = PATH.exec(req.url ?? '');
  if (!m) {
    res.writeHead(404).end();
    return;
  }
  productBySku(decodeURIComponent(m[1]!), (err, product) => {
    if (err) {
      res.writeHead(503).end();
      return;
    }
    const body = JSON.stringify(product ?? { code: 'NOT_FOUND' });
    res.writeHead(product ? 200 : 404, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
}).listen(port, '127.0.0.1');
