// Request validation with TypeBox: schemas are the types, compiled once, and the first error is
// reported with its path. Strings that reach the database must be well-formed Unicode without
// control characters (MySQL's utf8mb4 would refuse lone surrogates with a 500 otherwise).
import { FormatRegistry, Type, type Static, type TSchema, type StringOptions } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { badRequest } from './errors.js';

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;
const EMAIL = /^[^\s@"(),:;<>[\\\]]{1,64}@[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/i;

if (!FormatRegistry.Has('text')) FormatRegistry.Set('text', (v) => v.isWellFormed() && !CONTROL.test(v));
if (!FormatRegistry.Has('multiline')) {
  // eslint-disable-next-line no-control-regex
  FormatRegistry.Set('multiline', (v) => v.isWellFormed() && !/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(v));
}
if (!FormatRegistry.Has('email')) FormatRegistry.Set('email', (v) => v.length <= 254 && EMAIL.test(v) && v.isWellFormed());

/** A single-line, well-formed string without control characters. */
export const Text = (opts: StringOptions & { maxLength: number }) => Type.String({ minLength: 1, ...opts, format: 'text' });
/** Like Text, but newlines and tabs are allowed (descriptions). */
export const MultilineText = (opts: StringOptions & { maxLength: number }) => Type.String({ ...opts, format: 'multiline' });
export const Email = () => Type.String({ format: 'email', maxLength: 254 });

export interface Validator<T extends TSchema> {
  (value: unknown, where?: string): Static<T>;
  check(value: unknown): value is Static<T>;
}

/** Compiles a schema into a function that returns the value typed, or throws 400 VALIDATION_FAILED. */
export function validator<T extends TSchema>(schema: T): Validator<T> {
  const compiled = TypeCompiler.Compile(schema);
  const validate = ((value: unknown, where = 'body') => {
    if (compiled.Check(value)) return value;
    const first = compiled.Errors(value).First();
    const path = first ? first.path.replace(/^\//, '').replace(/\//g, '.') : '';
    const reason = first ? describe(first.schema, first.message) : 'is invalid';
    throw badRequest(`${where}${path ? `.${path}` : ''}: ${reason}`, { field: path || where });
  }) as Validator<T>;
  validate.check = (value: unknown): value is Static<T> => compiled.Check(value);
  return validate;
}

function describe(schema: TSchema, fallback: string): string {
  const format = (schema as { format?: string }).format;
  if (format === 'text') return 'must be non-empty text without control characters' + limit(schema);
  if (format === 'multiline') return 'must be text without control characters' + limit(schema);
  if (format === 'email') return 'must be an email address';
  return fallback.charAt(0).toLowerCase() + fallback.slice(1);
}

function limit(schema: TSchema): string {
  const max = (schema as { maxLength?: number }).maxLength;
  return max ? ` (at most ${max} characters)` : '';
}

const emptyObject = validator(Type.Object({}, { additionalProperties: false }));

/** For endpoints that take no body: nothing, or an empty JSON object (400 otherwise). */
export function expectNoBody(body: unknown): void {
  if (body !== undefined) emptyObject(body);
}
