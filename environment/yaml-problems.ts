// One reporter for the problems of a YAML file that a TypeBox schema describes (inventory files,
// load profiles): it finds every problem at once, each with its line, its dotted path, what was
// expected and, for an unknown key, the allowed key it most likely meant. A loader only words
// the problems in its own vocabulary (a `Wording`) and formats the list.
import type { TSchema } from '@sinclair/typebox';
import { ValueErrorType } from '@sinclair/typebox/errors';
import { Value } from '@sinclair/typebox/value';
import { LineCounter, isMap, isNode, isScalar, parseDocument, type Document } from 'yaml';
import { distance as levenshtein } from 'fastest-levenshtein';

export type PathKey = string | number;

export interface YamlProblem {
  /** Where in the file, dotted: `services.orders.scaling.max`, `journeys[0].steps[1]` ('' for the whole file). */
  path: string;
  line: number | undefined;
  col: number | undefined;
  /** What is wrong, e.g. `expected an integer from 1 to 500, got "lots"`. */
  problem: string;
  /** What belongs there instead: a value ("an integer from 1 to 500") or a fix ("remove it; …"). */
  expected: string;
  /** The value came from the command line (an -e override), not from the file: it has no line. */
  fromOverride: boolean;
}

/** A loader's words for the problems the reporter finds. */
export interface Wording {
  syntax(message: string): Words;
  notAMapping(): Words;
  /** `allowed` is empty when the keys follow a pattern (a record); `schema` is the mapping's. */
  unknownKey(key: string, allowed: string[], suggestion: string | undefined, schema: TSchema): Words;
  /** `schema` is the missing value's. */
  missing(key: string, schema: TSchema): Words;
  /** Any other schema failure; `message` is TypeBox's ("Expected integer", …). */
  invalid(key: string, value: unknown, schema: TSchema, message: string): Words;
}

export interface Words {
  problem: string;
  expected: string;
}

export interface ReportOptions {
  /**
   * How a path that is not in the file (a missing key) is placed: `key` points at the key of
   * its nearest ancestor, and a whole-file problem at the top (load profiles); `node` at where
   * the nearest ancestor's value starts, and nowhere for a top-level key (inventory files).
   */
  locate?: 'key' | 'node';
}

/** The line where `path` is, and the problems found so far. */
export class YamlProblems {
  readonly list: YamlProblem[] = [];
  private readonly overridden: PathKey[][] = [];

  constructor(
    readonly doc: Document,
    private readonly lines: LineCounter,
    private readonly wording: Wording,
    private readonly options: ReportOptions = {},
  ) {}

  get length(): number {
    return this.list.length;
  }

  /** Values at and under `path` come from the command line from now on. */
  overrides(path: PathKey[]): void {
    this.overridden.push(path);
  }

  /**
   * `atKey` points at the key rather than its value (an unknown or misnamed key); `fromOverride`
   * says the problem is the override's itself (values under an override path are anyway).
   */
  add(path: PathKey[], problem: string, expected: string, opts: { atKey?: boolean; fromOverride?: boolean } = {}): void {
    const atKey = opts.atKey ?? false;
    const fromOverride = opts.fromOverride ?? this.overridden.some((o) => startsWith(path, o));
    const pos = fromOverride ? undefined : this.locate(path, atKey);
    this.list.push({ path: dotted(path), line: pos?.line, col: pos?.col, problem, expected, fromOverride });
  }

  /** Checks `value` (found at `base` in the file) against `schema`; true when it had problems. */
  checkSchema(schema: TSchema, value: unknown, base: PathKey[] = []): boolean {
    const reported: PathKey[][] = [];
    for (const e of Value.Errors(schema, value)) {
      const rel = pointerSegments(e.path);
      const path = [...base, ...rel];
      // One problem per place: what fails under a reported path is part of that problem.
      if (reported.some((r) => startsWith(path, r))) continue;
      reported.push(path);
      const key = String(rel[rel.length - 1] ?? '');
      if (e.type === ValueErrorType.ObjectAdditionalProperties) {
        const allowed = Object.keys((e.schema as { properties?: Record<string, unknown> }).properties ?? {});
        const w = this.wording.unknownKey(key, allowed, closest(key, allowed), e.schema);
        this.add(path, w.problem, w.expected, { atKey: true });
      } else if (e.type === ValueErrorType.ObjectRequiredProperty) {
        const w = this.wording.missing(key, e.schema);
        this.add(path, w.problem, w.expected);
      } else {
        const w = this.wording.invalid(key, e.value, e.schema, e.message);
        this.add(path, w.problem, w.expected);
      }
    }
    return reported.length > 0;
  }

  private locate(path: PathKey[], atKey: boolean): { line: number; col: number } | undefined {
    const byKey = this.options.locate !== 'node';
    for (let n = path.length; n >= (byKey ? 0 : 1); n--) {
      const prefix = path.slice(0, n);
      let offset: number | undefined;
      if (byKey && (atKey || n < path.length) && n > 0) {
        const parent = prefix.length > 1 ? this.doc.getIn(prefix.slice(0, -1), true) : this.doc.contents;
        if (isMap(parent)) {
          const pair = parent.items.find((p) => isScalar(p.key) && p.key.value === prefix[prefix.length - 1]);
          offset = isNode(pair?.key) ? pair.key.range?.[0] : undefined;
        }
      }
      if (offset === undefined) {
        const node: unknown = n === 0 ? this.doc.contents : this.doc.getIn(prefix, true);
        offset = isNode(node) ? node.range?.[0] : undefined;
      }
      if (offset !== undefined) return this.lines.linePos(offset);
    }
    return undefined;
  }
}

/**
 * Parses YAML text, keeping lines for the problems. `value` is the parsed mapping; it is undefined
 * when the text is not valid YAML or not a mapping, and then `problems` says why.
 */
export function readYaml(text: string, wording: Wording, options: ReportOptions = {}): { value: Record<string, unknown> | undefined; problems: YamlProblems } {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const problems = new YamlProblems(doc, lines, wording, options);
  if (doc.errors.length) {
    for (const e of doc.errors) {
      const pos = lines.linePos(e.pos[0]);
      const w = wording.syntax(e.message.split('\n')[0]!);
      problems.list.push({ path: '', line: pos.line, col: pos.col, problem: w.problem, expected: w.expected, fromOverride: false });
    }
    return { value: undefined, problems };
  }
  const value: unknown = doc.toJS();
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    const w = wording.notAMapping();
    problems.list.push({ path: '', line: 1, col: 1, problem: w.problem, expected: w.expected, fromOverride: false });
    return { value: undefined, problems };
  }
  return { value: value as Record<string, unknown>, problems };
}

// --- did you mean ---------------------------------------------------------------------------------

/** Edit distance, ignoring case (fastest-levenshtein, already in the tree through @zxcvbn-ts). */
function distance(a: string, b: string): number {
  return levenshtein(a.toLowerCase(), b.toLowerCase());
}

/** The choice `word` most likely misspells, if one is close enough to be a typo. */
export function closest(word: string, choices: readonly string[]): string | undefined {
  const best = choices.map((c) => [c, distance(word, c)] as const).sort((a, b) => a[1] - b[1])[0];
  return best && best[1] <= Math.max(2, Math.floor(word.length / 3)) ? best[0] : undefined;
}

/** ` (did you mean "x"?)` for a likely typo of one of `choices`, '' otherwise. */
export function didYouMean(word: string, choices: readonly string[]): string {
  const best = closest(word, choices);
  return best === undefined ? '' : ` (did you mean "${best}"?)`;
}

// --- paths ----------------------------------------------------------------------------------------

/** `services.orders.scaling.max`, `saleEvents[0].start`. */
export function dotted(path: readonly PathKey[]): string {
  return path.map((k, i) => (typeof k === 'number' ? `[${k}]` : i === 0 ? k : `.${k}`)).join('');
}

/** JSON pointer (`/services/orders/0`) to path keys; digits are list indexes. */
export function pointerSegments(pointer: string): PathKey[] {
  if (!pointer) return [];
  return pointer
    .slice(1)
    .split('/')
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((p) => (/^\d+$/.test(p) ? Number(p) : p));
}

function startsWith(path: readonly PathKey[], prefix: readonly PathKey[]): boolean {
  return prefix.length <= path.length && prefix.every((k, i) => k === path[i]);
}
