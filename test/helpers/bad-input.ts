// Hostile input for write endpoints (acceptance: bad input gives 4xx {code, message} and changes
// nothing). Two parts: a fixed list of raw bodies every JSON endpoint must refuse, and fast-check
// arbitraries that build bodies guaranteed invalid by construction (a required field missing, a
// field of the wrong type or shape, an unknown field, or not an object at all), so a fuzz run can
// assert "4xx and no change" without an oracle.
import fc from 'fast-check';
import type mysql from 'mysql2/promise';
import type { JsonResponse } from './http.js';

export interface RawCase {
  name: string;
  raw: string | Buffer;
  contentType?: string;
}

/** Bodies no JSON endpoint may accept, whatever its schema. */
export function rawBadBodies(valid: Record<string, unknown>, maxBodyBytes: number): RawCase[] {
  const json = JSON.stringify(valid);
  return [
    { name: 'truncated JSON', raw: json.slice(0, -3) },
    { name: 'trailing comma', raw: `${json.slice(0, -1)},}` },
    { name: 'single quotes', raw: json.replace(/"/g, "'") },
    { name: 'bare word', raw: 'undefined' },
    { name: 'JSON array', raw: `[${json}]` },
    { name: 'JSON string', raw: '"hello"' },
    { name: 'JSON number', raw: '42' },
    { name: 'JSON null', raw: 'null' },
    { name: 'empty object', raw: '{}' },
    { name: 'prototype pollution', raw: `{"__proto__":{"admin":true},${json.slice(1)}` },
    { name: 'constructor key', raw: `{"constructor":{"prototype":{"x":1}},${json.slice(1)}` },
    { name: 'oversized body', raw: JSON.stringify({ ...valid, pad: 'x'.repeat(maxBodyBytes + 10) }) },
    { name: 'form encoded', raw: 'a=1&b=2', contentType: 'application/x-www-form-urlencoded' },
    { name: 'text/plain JSON', raw: json, contentType: 'text/plain' },
    { name: 'invalid UTF-8', raw: Buffer.concat([Buffer.from(json.slice(0, -1)), Buffer.from([0x2c, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d])]) },
  ];
}

/** Strings that look like SQL, markup or shell, and unicode tricks (for fields with a fixed shape). */
export const SQL_LOOKING = [
  "' OR '1'='1",
  "x'); DROP TABLE products; --",
  '" OR ""="',
  '1; SELECT SLEEP(5)',
  "admin'--",
  '%',
  '_',
  '\\',
  '<script>alert(1)</script>',
  '$(rm -rf /)',
];

export const BAD_UNICODE = [
  '\u0000',
  'a\u0000b',
  'line\nbreak',
  'tab\there',
  '\u001b[31mred',
  '\u007f',
  '\ud800',
  'x\udfffy',
];

/** Well-formed but non-ASCII look-alikes: wrong for any field restricted to ASCII patterns. */
export const LOOKALIKES = ['ЅKU-1', 'SKU\u2011001', 'ＳＫＵ', '😀', 'e\u0301', '\u202eabc'];

export const hostileString = fc.oneof(fc.constantFrom(...SQL_LOOKING), fc.constantFrom(...BAD_UNICODE), fc.constantFrom(...LOOKALIKES));

/** Any JSON value that is not a string. */
export const notAString = fc.oneof(fc.constant(null), fc.integer(), fc.double(), fc.boolean(), fc.array(fc.string(), { maxLength: 3 }), fc.dictionary(fc.string(), fc.string(), { maxKeys: 2 }));
/** Any JSON value that is not an integer. */
export const notAnInteger = fc.oneof(
  fc.constant(null),
  fc.double({ noInteger: true, noNaN: true, noDefaultInfinity: true }),
  fc.string(),
  fc.boolean(),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.integer().map(String),
);
/** Any JSON value that is not a boolean. */
export const notABoolean = fc.oneof(fc.constant(null), fc.integer(), fc.constantFrom('true', 'false', '1', ''), fc.array(fc.boolean(), { maxLength: 2 }));

export interface FieldSpec {
  required: boolean;
  valid: fc.Arbitrary<unknown>;
  /** Values this field must refuse, whatever the rest of the body is. */
  invalid: fc.Arbitrary<unknown>;
}

type Mutation = { kind: 'drop'; field: string } | { kind: 'replace'; field: string; value: unknown } | { kind: 'extra'; key: string; value: unknown };

/**
 * Bodies that are invalid by construction for an endpoint whose schema is `spec` (and refuses
 * unknown fields): valid values everywhere, then at least one mutation that alone makes it invalid.
 */
export function invalidBodies(spec: Record<string, FieldSpec>): fc.Arbitrary<unknown> {
  const fields = Object.keys(spec);
  const required = fields.filter((f) => spec[f]!.required);
  const base = fc.record(
    Object.fromEntries(fields.map((f) => [f, spec[f]!.valid])),
    { requiredKeys: required },
  );
  const mutations: Array<fc.Arbitrary<Mutation>> = [];
  if (required.length) mutations.push(fc.constantFrom(...required).map((field): Mutation => ({ kind: 'drop', field })));
  if (fields.length) mutations.push(fc.constantFrom(...fields).chain((field) => spec[field]!.invalid.map((value): Mutation => ({ kind: 'replace', field, value }))));
  mutations.push(
    fc
      .tuple(
        fc.oneof(fc.string({ minLength: 1, maxLength: 12 }), fc.constantFrom('role', 'id', 'admin', 'isAdmin', 'createdAt', "name' --", 'Name')),
        fc.jsonValue({ maxDepth: 1 }),
      )
      .filter(([key]) => !fields.includes(key) && key !== '__proto__')
      .map(([key, value]): Mutation => ({ kind: 'extra', key, value })),
  );
  const mutation = fc.oneof(...mutations);
  const mutated = fc.tuple(base, fc.array(mutation, { minLength: 1, maxLength: 3 })).map(([body, mutations]) => {
    const out: Record<string, unknown> = { ...body };
    for (const m of mutations) {
      if (m.kind === 'drop') delete out[m.field];
      else if (m.kind === 'replace') out[m.field] = m.value;
      else out[m.key] = m.value;
    }
    return out;
  });
  const notAnObject = fc.oneof(fc.constant(null), fc.integer(), fc.string(), fc.boolean(), fc.array(fc.jsonValue({ maxDepth: 1 }), { maxLength: 3 }));
  return fc.oneof({ weight: 9, arbitrary: mutated }, { weight: 1, arbitrary: notAnObject });
}

/** The answer is a 4xx with the {code, message} shape. */
export function isRejection(res: JsonResponse): boolean {
  return res.status >= 400 && res.status < 500 && typeof res.body?.code === 'string' && typeof res.body?.message === 'string';
}

/** A content checksum of tables (CHECKSUM TABLE works on MariaDB and MySQL alike). */
export async function tablesChecksum(sql: mysql.Connection, tables: string[]): Promise<string> {
  const [rows] = await sql.query(`CHECKSUM TABLE ${tables.map((t) => `\`${t}\``).join(', ')} EXTENDED`);
  return JSON.stringify((rows as Array<{ Table: string; Checksum: unknown }>).map((r) => [r.Table.split('.').pop(), String(r.Checksum)]));
}
