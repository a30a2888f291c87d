// Loading an inventory file: read, parse, apply `-e key.path=value` overrides (typed by the
// schema), validate, and freeze. Every error names the file, the path inside it (with the line
// when the YAML has one) and what was expected, in one line.
import { readFile } from 'node:fs/promises';
import type { TSchema } from '@sinclair/typebox';
import { ValueErrorType, type TypeCheck, type ValueError } from '@sinclair/typebox/compiler';
import { LineCounter, parseDocument, parse as parseYaml, isNode } from 'yaml';
import { checkConsistency, inventoryValidator, type Environment } from './schema.js';
import type { ServiceCatalogue } from './services.js';

// --- errors -----------------------------------------------------------------------------------------

export class InventoryFileError extends Error {
  constructor(
    readonly file: string,
    /** Dotted path inside the inventory, e.g. `services.orders.scaling.max` ('' for the whole file). */
    readonly path: string,
    readonly expected: string,
    opts: { line?: number; detail?: string; fromOverride?: boolean } = {},
  ) {
    const where = `${file}${opts.line ? `:${opts.line}` : ''}`;
    const what = path ? `${path}${opts.fromOverride ? ' (set with -e)' : ''}: ` : '';
    super(`${where}: ${what}${opts.detail ?? `expected ${expected}`}`);
    this.name = 'InventoryFileError';
    this.line = opts.line;
    this.fromOverride = opts.fromOverride ?? false;
  }

  /** The line in the file, when the path exists there. */
  readonly line: number | undefined;
  /** True when the offending value came from an `-e` override rather than the file. */
  readonly fromOverride: boolean;
}

// --- loading ------------------------------------------------------------------------------------------

export interface LoadOptions {
  /** `key.path=value` pairs (from `-e`), applied before validation; values are typed by the schema. */
  overrides?: readonly string[] | Readonly<Record<string, string>>;
  /** The services an inventory may and must configure; the shop's by default. */
  services?: ServiceCatalogue;
}

/** Reads, parses, overrides and validates an inventory file. */
export async function loadEnvironment(file: string, opts: LoadOptions = {}): Promise<Environment> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new InventoryFileError(file, '', 'a readable inventory file', {
      detail: code === 'ENOENT' ? 'no such file (inventories live in playbooks/inventories/<env>.yaml)' : `cannot be read (${code ?? 'error'})`,
    });
  }
  return parseEnvironment(text, file, opts);
}

/** Parses and validates inventory text; `file` is only used in error messages. */
export function parseEnvironment(text: string, file: string, opts: LoadOptions = {}): Environment {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    const line = lineCounter.linePos(e.pos[0]).line;
    throw new InventoryFileError(file, '', 'valid YAML', { line, detail: `not valid YAML: ${e.message.split('\n')[0]}` });
  }
  const raw: unknown = doc.toJS();
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new InventoryFileError(file, '', 'a mapping of settings', { line: 1, detail: 'expected a mapping of settings (project, environment, target, …)' });
  }
  const { schema, check: compiled } = inventoryValidator(opts.services);
  const overridden = new Set<string>();
  for (const [path, value] of overridePairs(opts.overrides)) {
    applyOverride(raw as Record<string, unknown>, path, value, file, schema);
    overridden.add(path);
  }
  const lineOf = (segments: readonly (string | number)[]): number | undefined => {
    for (let n = segments.length; n >= 1; n--) {
      const node: unknown = doc.getIn(segments.slice(0, n), true);
      if (isNode(node) && node.range) return lineCounter.linePos(node.range[0]).line;
    }
    return undefined;
  };
  const fail = (segments: readonly (string | number)[], expected: string, detail?: string): never => {
    const path = dotted(segments);
    const fromOverride = [...overridden].some((o) => path === o || path.startsWith(`${o}.`) || path.startsWith(`${o}[`));
    throw new InventoryFileError(file, path, expected, { line: fromOverride ? undefined : lineOf(segments), detail, fromOverride });
  };

  if (!compiled.Check(raw)) {
    const first = firstError(compiled, raw);
    const segments = pointerSegments(first.path);
    if (first.type === UNEXPECTED_PROPERTY) {
      const parent = first.schema as { properties?: Record<string, unknown>; keyExpected?: string };
      const known = parent.properties ? `one of ${Object.keys(parent.properties).join(', ')}` : parent.keyExpected ?? 'a known setting';
      fail(segments, known, `unknown setting (expected ${known})`);
    }
    const expected = expectedOf(first.schema);
    if (first.type === REQUIRED_PROPERTY) fail(segments, expected, `is missing: expected ${expected}`);
    fail(segments, expected, `expected ${expected}, got ${show(first.value)}`);
  }
  const inv = raw as Environment;
  checkConsistency(inv, fail, opts.services);
  return deepFreeze(inv);
}

const UNEXPECTED_PROPERTY = ValueErrorType.ObjectAdditionalProperties;
const REQUIRED_PROPERTY = ValueErrorType.ObjectRequiredProperty;

function firstError(compiled: TypeCheck<TSchema>, value: unknown): ValueError {
  // Prefer the deepest error: a union failure reports itself before the member that really failed.
  const errors = [...compiled.Errors(value)];
  const required = errors.find((e) => e.type === REQUIRED_PROPERTY);
  return required ?? errors.sort((a, b) => b.path.split('/').length - a.path.split('/').length)[0]!;
}


// --- overrides ------------------------------------------------------------------------------------------

function overridePairs(overrides: LoadOptions['overrides']): Array<[string, string]> {
  if (!overrides) return [];
  if (Array.isArray(overrides)) {
    return (overrides as readonly string[]).map((pair) => {
      const eq = pair.indexOf('=');
      if (eq <= 0) throw new InventoryFileError(`-e ${pair}`, '', 'key.path=value', { detail: 'expected key.path=value, e.g. -e services.orders.scaling.max=12' });
      return [pair.slice(0, eq).trim(), pair.slice(eq + 1)];
    });
  }
  return Object.entries(overrides as Record<string, string>);
}

/** Sets one override, converting the text to what the schema expects at that path. */
function applyOverride(raw: Record<string, unknown>, path: string, text: string, file: string, inventorySchema: TSchema): void {
  const segments = path.split('.').map((s) => (/^\d+$/.test(s) ? Number(s) : s));
  const where = file;
  const o = (detail?: string) => ({ fromOverride: true, detail });
  if (segments.some((s) => s === '')) throw new InventoryFileError(where, path, 'a dotted path such as services.orders.scaling.max', o());
  // Resolve the whole path in the schema first, so a typo is reported as such.
  const schemas: TSchema[] = [];
  let schema: TSchema = inventorySchema;
  segments.forEach((segment, i) => {
    const step = childSchema(schema, segment);
    if (!step) {
      const known = knownKeys(schema);
      throw new InventoryFileError(where, dotted(segments.slice(0, i + 1)), known, o(`no such setting (expected ${known})`));
    }
    schemas.push(step);
    schema = step;
  });
  let node: Record<string | number, unknown> = raw;
  segments.forEach((segment, i) => {
    if (i === segments.length - 1) {
      node[segment] = typed(text, schemas[i]!, where, path);
      return;
    }
    if (node[segment] === undefined || node[segment] === null) node[segment] = typeof segments[i + 1] === 'number' ? [] : {};
    const next = node[segment];
    if (typeof next !== 'object' || next === null) throw new InventoryFileError(where, dotted(segments.slice(0, i + 1)), 'a mapping', o('is a single value, not a mapping'));
    node = next as Record<string | number, unknown>;
  });
}

function childSchema(schema: TSchema, segment: string | number): TSchema | undefined {
  const s = schema as { type?: string; properties?: Record<string, TSchema>; patternProperties?: Record<string, TSchema>; items?: TSchema; anyOf?: TSchema[] };
  if (s.type === 'object' && s.properties && typeof segment === 'string') return s.properties[segment];
  if (s.type === 'object' && s.patternProperties && typeof segment === 'string') {
    const [pattern, value] = Object.entries(s.patternProperties)[0]!;
    return new RegExp(pattern).test(segment) ? value : undefined;
  }
  if (s.type === 'array' && typeof segment === 'number') return s.items;
  return undefined;
}

function knownKeys(schema: TSchema): string {
  const s = schema as { properties?: Record<string, unknown>; type?: string };
  if (s.properties) return `one of ${Object.keys(s.properties).join(', ')}`;
  if (s.type === 'array') return 'a list index such as 0';
  return expectedOf(schema);
}

function typed(text: string, schema: TSchema, where: string, path: string): unknown {
  const o = (detail: string) => ({ fromOverride: true, detail });
  const s = schema as { type?: string; anyOf?: Array<{ const?: unknown }> };
  const kinds = s.anyOf ? [...new Set(s.anyOf.map((m) => typeof m.const))] : [];
  if (s.type === 'string' || (kinds.length === 1 && kinds[0] === 'string')) return text;
  if (s.type === 'integer' || s.type === 'number' || (kinds.length === 1 && kinds[0] === 'number')) {
    const n = Number(text.trim());
    if (text.trim() === '' || !Number.isFinite(n)) throw new InventoryFileError(where, path, expectedOf(schema), o(`expected ${expectedOf(schema)}, got ${show(text)}`));
    return n;
  }
  if (s.type === 'boolean') {
    if (/^(true|yes|on)$/i.test(text.trim())) return true;
    if (/^(false|no|off)$/i.test(text.trim())) return false;
    throw new InventoryFileError(where, path, 'true or false', o(`expected true or false, got ${show(text)}`));
  }
  try {
    return parseYaml(text) as unknown; // lists and mappings: -e 'domain.aliases=[shop.example.com]'
  } catch {
    throw new InventoryFileError(where, path, expectedOf(schema), o(`expected ${expectedOf(schema)} written as YAML, got ${show(text)}`));
  }
}


function expectedOf(schema: TSchema): string {
  const s = schema as { expected?: string; type?: string; minimum?: number; maximum?: number; minItems?: number; anyOf?: Array<{ const?: unknown }>; format?: string; pattern?: string };
  if (s.expected) return s.expected;
  if (s.anyOf) return `one of ${s.anyOf.map((m) => String(m.const)).join(', ')}`;
  switch (s.type) {
    case 'integer': return `an integer from ${s.minimum ?? '-∞'} to ${s.maximum ?? '∞'}`;
    case 'number': return `a number from ${s.minimum ?? '-∞'} to ${s.maximum ?? '∞'}`;
    case 'boolean': return 'true or false';
    case 'string': return s.pattern ? `text matching ${s.pattern}` : 'text';
    case 'array': return s.minItems ? `a list of at least ${s.minItems}` : 'a list';
    case 'object': return 'a mapping';
    default: return 'a valid value';
  }
}

function pointerSegments(pointer: string): (string | number)[] {
  if (!pointer) return [];
  return pointer.slice(1).split('/').map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~')).map((p) => (/^\d+$/.test(p) ? Number(p) : p));
}

function dotted(segments: readonly (string | number)[]): string {
  return segments.reduce<string>((acc, s) => (typeof s === 'number' ? `${acc}[${s}]` : acc ? `${acc}.${s}` : s), '');
}

function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value) ?? typeof value;
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
