// The two small languages of a journey step: `{{name}}` / `{{feeder.field}}` placeholders in
// paths, headers and JSON bodies, and capture expressions (`token`, `items[*].sku`,
// `header:etag`) that pull values out of a response for later steps. Both are parsed once when
// the profile loads, so a typo is a profile error and rendering costs no parsing per request.
// Written here rather than taken from a templating or JSONPath library: the subset is a few lines,
// and the loader must know every variable a step uses to reject unknown ones up front.

export type PlaceholderPart = string | { ref: string[] };

export interface PlaceholderText {
  source: string;
  parts: PlaceholderPart[];
  /** True when there is nothing to substitute (the rendered value is `source`). */
  constant: boolean;
}

const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;
const REF = /^[A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*)?$/;

export class StepSyntaxError extends Error {}

export function parsePlaceholders(source: string): PlaceholderText {
  const parts: PlaceholderPart[] = [];
  let last = 0;
  for (const m of source.matchAll(PLACEHOLDER)) {
    const name = m[1]!;
    if (!REF.test(name)) throw new StepSyntaxError(`"{{${name}}}" is not a variable name (use {{name}} or {{feeder.field}})`);
    if (m.index > last) parts.push(source.slice(last, m.index));
    parts.push({ ref: name.split('.') });
    last = m.index + m[0].length;
  }
  if (last < source.length) parts.push(source.slice(last));
  if (/\{\{|\}\}/.test(parts.filter((p) => typeof p === 'string').join(''))) {
    throw new StepSyntaxError(`unbalanced braces in "${source}"`);
  }
  return { source, parts, constant: parts.every((p) => typeof p === 'string') };
}

/** Every variable reference a placeholder text makes. */
export function placeholderRefs(t: PlaceholderText): string[][] {
  return t.parts.filter((p): p is { ref: string[] } => typeof p !== 'string').map((p) => p.ref);
}

export type Lookup = (ref: string[]) => unknown;

export function fillPlaceholders(t: PlaceholderText, lookup: Lookup, encode?: (s: string) => string): string {
  if (t.constant) return t.source;
  let out = '';
  for (const p of t.parts) {
    if (typeof p === 'string') out += p;
    else {
      const v = stringify(lookup(p.ref));
      out += encode ? encode(v) : v;
    }
  }
  return out;
}

function stringify(v: unknown): string {
  if (v === undefined || v === null) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  return JSON.stringify(v) ?? '';
}

/** A JSON body with placeholders in its strings; a string that is one placeholder keeps the value's type. */
export type JsonWithPlaceholders =
  | { kind: 'value'; value: unknown }
  | { kind: 'string'; text: PlaceholderText }
  | { kind: 'array'; items: JsonWithPlaceholders[] }
  | { kind: 'object'; entries: Array<[string, JsonWithPlaceholders]> };

export function parseJsonPlaceholders(value: unknown): JsonWithPlaceholders {
  if (typeof value === 'string') {
    const text = parsePlaceholders(value);
    return text.constant ? { kind: 'value', value } : { kind: 'string', text };
  }
  if (Array.isArray(value)) return { kind: 'array', items: value.map(parseJsonPlaceholders) };
  if (value && typeof value === 'object') {
    return { kind: 'object', entries: Object.entries(value).map(([k, v]) => [k, parseJsonPlaceholders(v)]) };
  }
  return { kind: 'value', value };
}

export function jsonPlaceholderRefs(t: JsonWithPlaceholders): string[][] {
  switch (t.kind) {
    case 'value':
      return [];
    case 'string':
      return placeholderRefs(t.text);
    case 'array':
      return t.items.flatMap(jsonPlaceholderRefs);
    case 'object':
      return t.entries.flatMap(([, v]) => jsonPlaceholderRefs(v));
  }
}

export function isConstantJson(t: JsonWithPlaceholders): boolean {
  return jsonPlaceholderRefs(t).length === 0;
}

export function fillJson(t: JsonWithPlaceholders, lookup: Lookup): unknown {
  switch (t.kind) {
    case 'value':
      return t.value;
    case 'string': {
      const only = t.text.parts.length === 1 ? t.text.parts[0] : undefined;
      if (only && typeof only !== 'string') return lookup(only.ref) ?? null;
      return fillPlaceholders(t.text, lookup);
    }
    case 'array':
      return t.items.map((i) => fillJson(i, lookup));
    case 'object': {
      const out: Record<string, unknown> = {};
      for (const [k, v] of t.entries) out[k] = fillJson(v, lookup);
      return out;
    }
  }
}

// --- captures ----------------------------------------------------------------------------------

export type CaptureSegment = { key: string } | { index: number } | { any: true };

export type CaptureExpr = { from: 'header'; header: string } | { from: 'body'; segments: CaptureSegment[] };

const SEGMENT = /^([A-Za-z_$][\w$-]*)?((?:\[(?:\d+|\*)\])*)$/;

/** `header:<name>`, or a path into the JSON body: `token`, `$.items[0].sku`, `items[*].sku` (a random item). */
export function parseCapture(source: string): CaptureExpr {
  const s = source.trim();
  if (s.toLowerCase().startsWith('header:')) {
    const header = s.slice(7).trim().toLowerCase();
    if (!/^[a-z0-9-]+$/.test(header)) throw new StepSyntaxError(`"${source}" does not name a header (use header:<name>)`);
    return { from: 'header', header };
  }
  const path = s.replace(/^\$\.?/, '');
  if (path === '') return { from: 'body', segments: [] };
  const segments: CaptureSegment[] = [];
  for (const piece of path.split('.')) {
    const m = SEGMENT.exec(piece);
    if (!m || (!m[1] && !m[2])) throw new StepSyntaxError(`"${source}" is not a capture path (use a.b[0].c, items[*].sku or header:<name>)`);
    if (m[1]) segments.push({ key: m[1] });
    for (const idx of (m[2] ?? '').matchAll(/\[(\d+|\*)\]/g)) {
      segments.push(idx[1] === '*' ? { any: true } : { index: Number(idx[1]) });
    }
  }
  return { from: 'body', segments };
}

/** Follows a capture path; `[*]` picks one element with `pick` (the journey's seeded random source). */
export function extract(value: unknown, segments: CaptureSegment[], pick: (n: number) => number): unknown {
  let cur = value;
  for (const seg of segments) {
    if (cur === null || cur === undefined) return undefined;
    if ('key' in seg) cur = (cur as Record<string, unknown>)[seg.key];
    else if (!Array.isArray(cur)) return undefined;
    else if ('index' in seg) cur = cur[seg.index];
    else cur = cur.length ? cur[pick(cur.length)] : undefined;
  }
  return cur;
}
