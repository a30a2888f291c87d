// Loading an inventory file: read, parse, apply `-e key.path=value` overrides (typed by the
// schema), validate, and freeze. Every problem is reported at once, one line each, naming the
// file, the path inside it (with the line when the YAML has one) and what was expected; the
// finding and placing of problems is environment/yaml-problems.ts, shared with load profiles.
import { readFile } from 'node:fs/promises';
import type { TSchema } from '@sinclair/typebox';
import { parse as parseYaml } from 'yaml';
import { checkConsistency, inventoryValidator, type Environment } from './schema.js';
import type { ServiceCatalogue } from './services.js';
import { closest, readYaml, type PathKey, type Wording, type YamlProblem, type YamlProblems } from './yaml-problems.js';

// --- errors -----------------------------------------------------------------------------------------

/** One problem of an inventory file; `expected` says what belongs at `path`. */
export type InventoryProblem = Pick<YamlProblem, 'path' | 'line' | 'problem' | 'expected' | 'fromOverride'>;

/**
 * Every problem of an inventory file, one line each. `path`, `line`, `expected` and
 * `fromOverride` describe the first problem; `problems` lists them all.
 */
export class InventoryFileError extends Error {
  constructor(
    readonly file: string,
    readonly problems: readonly InventoryProblem[],
  ) {
    super(problems.map((p) => problemLine(file, p)).join('\n'));
    this.name = 'InventoryFileError';
    const first = problems[0]!;
    this.path = first.path;
    this.line = first.line;
    this.expected = first.expected;
    this.fromOverride = first.fromOverride;
  }

  /** Dotted path inside the inventory, e.g. `services.orders.scaling.max` ('' for the whole file). */
  readonly path: string;
  /** The line in the file, when the path exists there. */
  readonly line: number | undefined;
  readonly expected: string;
  /** True when the offending value came from an `-e` override rather than the file. */
  readonly fromOverride: boolean;
}

function problemLine(file: string, p: InventoryProblem): string {
  const where = `${file}${p.line ? `:${p.line}` : ''}`;
  const what = p.path ? `${p.path}${p.fromOverride ? ' (set with -e)' : ''}: ` : '';
  return `${where}: ${what}${p.problem}`;
}

/** A problem that is the whole file's or the command line's, not a setting's. */
const fileProblem = (problem: string, expected: string, line?: number): InventoryProblem => ({ path: '', line, problem, expected, fromOverride: false });

/** How the inventory loader words what the YAML reporter finds. */
const wording: Wording = {
  syntax: (message) => ({ problem: `not valid YAML: ${message}`, expected: 'valid YAML' }),
  notAMapping: () => ({ problem: 'expected a mapping of settings (project, environment, target, …)', expected: 'a mapping of settings' }),
  unknownKey(key, allowed, suggestion, schema) {
    const known = allowed.length ? `one of ${allowed.join(', ')}` : (schema as { keyExpected?: string }).keyExpected ?? 'a known setting';
    return { problem: `unknown setting (expected ${known})${meant(suggestion)}`, expected: known };
  },
  missing: (_key, schema) => ({ problem: `is missing: expected ${expectedOf(schema)}`, expected: expectedOf(schema) }),
  invalid: (_key, value, schema) => ({ problem: `expected ${expectedOf(schema)}, got ${show(value)}`, expected: expectedOf(schema) }),
};

const meant = (suggestion: string | undefined): string => (suggestion === undefined ? '' : `; did you mean "${suggestion}"?`);

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
    const problem = code === 'ENOENT' ? 'no such file (inventories live in playbooks/inventories/<env>.yaml)' : `cannot be read (${code ?? 'error'})`;
    throw new InventoryFileError(file, [fileProblem(problem, 'a readable inventory file')]);
  }
  return parseEnvironment(text, file, opts);
}

/** Parses and validates inventory text; `file` is only used in error messages. */
export function parseEnvironment(text: string, file: string, opts: LoadOptions = {}): Environment {
  const pairs = overridePairs(opts.overrides);
  const { value: raw, problems } = readYaml(text, wording, { locate: 'node' });
  if (!raw) throw new InventoryFileError(file, problems.list);
  const { schema, check } = inventoryValidator(opts.services);
  for (const [path, value] of pairs) applyOverride(raw, path, value, problems, schema);
  // Rules across settings need the shape right: they run once the schema has nothing to say.
  if (!check.Check(raw)) problems.checkSchema(schema, raw);
  if (problems.length > 0) throw new InventoryFileError(file, problems.list);
  const inv = raw as Environment;
  checkConsistency(inv, (segments, expected, detail) => problems.add(segments, detail ?? `expected ${expected}`, expected), opts.services);
  if (problems.length > 0) throw new InventoryFileError(file, problems.list);
  return deepFreeze(inv);
}

// --- overrides ------------------------------------------------------------------------------------------

function overridePairs(overrides: LoadOptions['overrides']): Array<[string, string]> {
  if (!overrides) return [];
  if (Array.isArray(overrides)) {
    return (overrides as readonly string[]).map((pair) => {
      const eq = pair.indexOf('=');
      if (eq <= 0) throw new InventoryFileError(`-e ${pair}`, [fileProblem('expected key.path=value, e.g. -e services.orders.scaling.max=12', 'key.path=value')]);
      return [pair.slice(0, eq).trim(), pair.slice(eq + 1)];
    });
  }
  return Object.entries(overrides as Record<string, string>);
}

/** Sets one override, converting the text to what the schema expects at that path; a bad one is a problem and is left out. */
function applyOverride(raw: Record<string, unknown>, path: string, text: string, problems: YamlProblems, inventorySchema: TSchema): void {
  const segments: PathKey[] = path.split('.').map((s) => (/^\d+$/.test(s) ? Number(s) : s));
  const fail = (at: PathKey[], problem: string, expected: string): void => problems.add(at, problem, expected, { fromOverride: true });
  if (segments.some((s) => s === '')) return fail(segments, 'expected a dotted path such as services.orders.scaling.max', 'a dotted path such as services.orders.scaling.max');
  // Resolve the whole path in the schema first, so a typo is reported as such.
  const schemas: TSchema[] = [];
  let schema: TSchema = inventorySchema;
  for (const [i, segment] of segments.entries()) {
    const step = childSchema(schema, segment);
    if (!step) {
      const known = knownKeys(schema);
      const keys = Object.keys((schema as { properties?: Record<string, unknown> }).properties ?? {});
      return fail(segments.slice(0, i + 1), `no such setting (expected ${known})${meant(closest(String(segment), keys))}`, known);
    }
    schemas.push(step);
    schema = step;
  }
  const value = typed(text, schema);
  if ('problem' in value) return fail(segments, value.problem, value.expected);
  let node: Record<string | number, unknown> = raw;
  for (const [i, segment] of segments.slice(0, -1).entries()) {
    if (node[segment] === undefined || node[segment] === null) node[segment] = typeof segments[i + 1] === 'number' ? [] : {};
    const next = node[segment];
    if (typeof next !== 'object' || next === null) return fail(segments.slice(0, i + 1), 'is a single value, not a mapping', 'a mapping');
    node = next as Record<string | number, unknown>;
  }
  node[segments[segments.length - 1]!] = value.value;
  problems.overrides(segments);
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

/** The override's text as the value the schema expects, or what is wrong with it. */
function typed(text: string, schema: TSchema): { value: unknown } | { problem: string; expected: string } {
  const s = schema as { type?: string; anyOf?: Array<{ const?: unknown }> };
  const kinds = s.anyOf ? [...new Set(s.anyOf.map((m) => typeof m.const))] : [];
  if (s.type === 'string' || (kinds.length === 1 && kinds[0] === 'string')) return { value: text };
  if (s.type === 'integer' || s.type === 'number' || (kinds.length === 1 && kinds[0] === 'number')) {
    const n = Number(text.trim());
    if (text.trim() === '' || !Number.isFinite(n)) return { problem: `expected ${expectedOf(schema)}, got ${show(text)}`, expected: expectedOf(schema) };
    return { value: n };
  }
  if (s.type === 'boolean') {
    if (/^(true|yes|on)$/i.test(text.trim())) return { value: true };
    if (/^(false|no|off)$/i.test(text.trim())) return { value: false };
    return { problem: `expected true or false, got ${show(text)}`, expected: 'true or false' };
  }
  try {
    return { value: parseYaml(text) as unknown }; // lists and mappings: -e 'domain.aliases=[shop.example.com]'
  } catch {
    return { problem: `expected ${expectedOf(schema)} written as YAML, got ${show(text)}`, expected: expectedOf(schema) };
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
