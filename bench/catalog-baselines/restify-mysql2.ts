// Baseline (i) of the catalog benchmark: bare restify + mysql2, nothing else (no request ids, no
// logging, no validation, no cache).
import restify from 'restify';
import { port, productBySku } from './db.js';

const server = restify.createServer({ name: 'baseline-restify' });
server.get('/api/catalog/products/:sku', (req, res, next) => {
  productBySku(String((req.params as Record<string, string>).sku), (err, product) => {
    if (err) return next(err);
    res.send(product ? 200 : 404, product ?? { code: 'NOT_FOUND' });
    return next();
  });
});
server.listen(port, '127.0.0.1');
