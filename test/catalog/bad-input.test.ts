// Acceptance 3 for the catalog: every write endpoint answers hostile input (malformed JSON, wrong
// types, missing and unknown fields, oversized bodies, SQL-looking strings, unicode and control
// characters) with 4xx {code, message} and changes nothing; a fast-check fuzz per endpoint too.
import t from 'tap';
import fc from 'fast-check';
import { catalogService } from '../../services/catalog/service.js';
import { seedCatalog } from '../../services/catalog/seeder.js';
import { testDatabase } from '../helpers/mysql.js';
import { startTestService } from '../helpers/service.js';
import { client } from '../helpers/http.js';
import { signToken } from '../helpers/tokens.js';
import {
  BAD_UNICODE, LOOKALIKES, SQL_LOOKING, hostileString, invalidBodies, isRejection, notABoolean, notAString, notAnInteger, rawBadBodies, tablesChecksum,
  type FieldSpec,
} from '../helpers/bad-input.js';

const MAX_BODY_BYTES = 16 * 1024;
const db = await testDatabase(t, 'catbad');
const svc = await startTestService(t, catalogService, db, { MAX_BODY_BYTES: String(MAX_BODY_BYTES) });
await seedCatalog(svc.ctx.db, 20);
const api = client(svc.url);
const admin = await signToken(db, 'admin');
const RUNS = Number(process.env.FUZZ_RUNS ?? 300);
const TABLES = ['products', 'categories'];

const singleLineBad = fc.constantFrom(...BAD_UNICODE);
const multilineBad = fc.constantFrom(...BAD_UNICODE.filter((s) => !/[\n\t]/.test(s)));
const text = () => fc.oneof(fc.string({ minLength: 1, maxLength: 40 }), fc.constantFrom(...SQL_LOOKING, 'Kettle ☕', 'Ünïcødé 😀'));

const productFields: Record<string, FieldSpec> = {
  sku: {
    required: true,
    valid: fc.stringMatching(/^[A-Z0-9][A-Z0-9_-]{0,31}$/),
    invalid: fc.oneof(notAString, hostileString, fc.constantFrom('', 'sku-1', 'SKU 1', 'A'.repeat(33), 'SKU-1\n')),
  },
  name: { required: true, valid: text(), invalid: fc.oneof(notAString, singleLineBad, fc.constantFrom('', 'x'.repeat(201))) },
  description: { required: false, valid: fc.string({ maxLength: 100 }), invalid: fc.oneof(notAString, multilineBad, fc.constant('x'.repeat(5001))) },
  priceCents: {
    required: true,
    valid: fc.integer({ min: 0, max: 100_000_000 }),
    invalid: fc.oneof(notAnInteger, fc.integer({ max: -1 }), fc.integer({ min: 100_000_001 }), fc.constant(1e300)),
  },
  currency: { required: true, valid: fc.constantFrom('EUR', 'USD', 'GBP'), invalid: fc.oneof(notAString, hostileString, fc.constantFrom('eur', 'EURO', 'QQQ', '€', 'EU', '')) },
  category: { required: true, valid: fc.constantFrom('kitchen', 'toys'), invalid: fc.oneof(notAString, hostileString, fc.constantFrom('Kitchen', '-a', 'a'.repeat(65), '', 'a b')) },
  imagePath: {
    required: true,
    valid: fc.constantFrom('/images/a.jpg', '/x/y_z-1.png'),
    invalid: fc.oneof(notAString, hostileString, fc.constantFrom('../etc/passwd', '/a/../b', 'http://evil.example/x.jpg', '/a b.jpg', '', '//x', 'images/a.jpg', `/${'a'.repeat(255)}`)),
  },
  active: { required: false, valid: fc.boolean(), invalid: notABoolean },
};
const patchFields = Object.fromEntries(Object.entries(productFields).filter(([k]) => k !== 'sku').map(([k, v]) => [k, { ...v, required: false }]));
const categoryFields: Record<string, FieldSpec> = {
  slug: { required: true, valid: fc.constantFrom('fuzz', 'a-1'), invalid: fc.oneof(notAString, hostileString, fc.constantFrom('Fuzz', '-x', 'x-', '', 'a'.repeat(65))) },
  name: { required: true, valid: text(), invalid: fc.oneof(notAString, singleLineBad, fc.constantFrom('', 'x'.repeat(101))) },
};

const validProduct = { sku: 'FUZZ-1', name: 'Valid', description: 'ok', priceCents: 100, currency: 'EUR', category: 'kitchen', imagePath: '/images/a.jpg' };
const endpoints = [
  { name: 'POST /api/catalog/products', method: 'POST', path: '/api/catalog/products', valid: validProduct, spec: productFields },
  { name: 'PATCH /api/catalog/products/:sku', method: 'PATCH', path: '/api/catalog/products/SKU-000001', valid: { priceCents: 5 }, spec: patchFields },
  { name: 'POST /api/catalog/products/:sku/deactivate', method: 'POST', path: '/api/catalog/products/SKU-000002/deactivate', valid: {}, spec: {} },
  { name: 'POST /api/catalog/categories', method: 'POST', path: '/api/catalog/categories', valid: { slug: 'fuzz', name: 'Fuzz' }, spec: categoryFields },
];

t.test('the fuzz generators only make invalid values', (t) => {
  const currencies = new Set(Intl.supportedValuesOf('currency'));
  t.notOk(['QQQ', 'EURO', 'eur'].some((c) => currencies.has(c)));
  t.ok(LOOKALIKES.every((s) => !/^[A-Za-z0-9 _-]+$/.test(s)));
  t.end();
});

for (const ep of endpoints) {
  t.test(`${ep.name}: fixed hostile bodies are refused and change nothing`, async (t) => {
    const before = await tablesChecksum(db.sql, TABLES);
    // (The no-body endpoint takes `{}`, so its malformed variants are built from another object.)
    for (const c of rawBadBodies(Object.keys(ep.valid).length ? ep.valid : { note: 'x' }, MAX_BODY_BYTES)) {
      if (c.name === 'empty object' && Object.keys(ep.spec).length === 0) continue;
      const res = await api.call(ep.method, ep.path, undefined, { raw: c.raw, token: admin, headers: c.contentType ? { 'content-type': c.contentType } : {} });
      t.ok(isRejection(res), `${c.name}: ${res.status} ${res.text.slice(0, 120)}`);
    }
    for (const [field, spec] of Object.entries(ep.spec)) {
      if (spec.required) {
        const { [field]: _dropped, ...missing } = { ...ep.valid } as Record<string, unknown>;
        t.ok(isRejection(await api.call(ep.method, ep.path, missing, { token: admin })), `${field} missing`);
      }
      // The same invalid values every run: SQL-looking strings, control characters, lone
      // surrogates, look-alike unicode, wrong types, out-of-range numbers.
      for (const value of fc.sample(spec.invalid, { numRuns: 40, seed: 42 })) {
        const res = await api.call(ep.method, ep.path, { ...ep.valid, [field]: value }, { token: admin });
        t.ok(isRejection(res), `${field}=${JSON.stringify(value)?.slice(0, 60)}: ${res.status}`);
      }
    }
    const unknown = await api.call(ep.method, ep.path, { ...ep.valid, role: 'admin' }, { token: admin });
    t.ok(isRejection(unknown), 'unknown field');
    t.equal(await tablesChecksum(db.sql, TABLES), before, 'nothing changed');
  });

  t.test(`${ep.name}: fuzzed invalid bodies get 4xx {code, message} and change nothing`, async (t) => {
    const before = await tablesChecksum(db.sql, TABLES);
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(invalidBodies(ep.spec), async (body) => {
        const res = await api.call(ep.method, ep.path, body, { token: admin });
        statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        if (!isRejection(res)) throw new Error(`${JSON.stringify(body)} → ${res.status} ${res.text}`);
      }),
      { numRuns: RUNS },
    );
    t.ok([...statuses.keys()].every((s) => s >= 400 && s < 500), `statuses ${JSON.stringify([...statuses])}`);
    t.equal(await tablesChecksum(db.sql, TABLES), before, 'nothing changed');
  });
}
