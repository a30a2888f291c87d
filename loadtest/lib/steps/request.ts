// A journey step: one HTTP request (`request: METHOD /path`), with headers and a JSON body that
// may hold {{placeholders}}, the statuses that count as success, captures for later steps, think
// time, and whether its responses are sales. It is the only kind of step; a second kind would be
// a file beside this one.
import { Type, type Static } from '@sinclair/typebox';
import { didYouMean, type PathKey } from '../../../environment/index.js';
import { feederKind, type FeederSpec } from '../feeders/index.js';
import {
  StepSyntaxError,
  jsonPlaceholderRefs,
  parseCapture,
  parseJsonPlaceholders,
  parsePlaceholders,
  placeholderRefs,
  type CaptureExpr,
  type JsonWithPlaceholders,
  type PlaceholderText,
} from '../placeholders.js';
import type { ProfileCompiler } from '../profile/compiler.js';
import { Dur, Name, Obj } from '../profile/shapes.js';
import { BUILTINS } from '../profile/types.js';
import { SESSION_VAR, usesSession } from '../sessions.js';

export interface Capture {
  name: string;
  expr: CaptureExpr;
}

export interface Step {
  journey: string;
  index: number;
  name: string;
  /** Name the recorder files this step's requests under, e.g. `GET /api/catalog/products/:sku`. */
  endpoint: string;
  method: string;
  path: PlaceholderText;
  headers: Array<[string, PlaceholderText]>;
  json: JsonWithPlaceholders | undefined;
  /** Statuses that count as success; null means any 2xx or 3xx. */
  expect: number[] | null;
  captures: Capture[];
  pauseMs: number;
  /** Successful responses of this step are sales (the oversell check adds up their items). */
  sale: boolean;
  /** The response body or headers are read (captures, sales, a login's session). */
  needsResponse: boolean;
  /** It sends {{session.token}}: the journey's account signs in (or renews) first when needed. */
  usesSession: boolean;
}

export const StepSchema = Obj(
  {
    name: Type.Optional(Name('the step name')),
    request: Type.String({ minLength: 1, description: 'the method and path, e.g. request: GET /api/catalog/products/{{product.sku}}' }),
    endpoint: Type.Optional(Type.String({ minLength: 1, description: 'the name results are filed under, e.g. endpoint: GET /api/orders' })),
    headers: Type.Optional(Type.Record(Type.String(), Type.String(), { description: 'header names mapped to (templated) strings' })),
    json: Type.Optional(Type.Unknown({ description: 'a JSON body, with {{placeholders}} in its strings' })),
    expect: Type.Optional(Type.Array(Type.Integer({ minimum: 100, maximum: 599 }), { minItems: 1, description: 'the statuses that count as success, e.g. expect: [201, 409]' })),
    capture: Type.Optional(Type.Record(Type.String(), Type.String(), { description: 'variable names mapped to capture paths, e.g. capture: {token: token, sku: "items[*].sku"}' })),
    pause: Type.Optional(Dur('think time before the step')),
    sale: Type.Optional(Type.Boolean({ description: 'true on the checkout step: its successful responses are sales for the oversell check' })),
  },
  'a step: {name, request, headers, json, expect, capture, pause, sale}',
);

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'];

/** Where a step is written, and the variables it may use. */
export interface StepSite {
  /** `['journeys', j, 'steps', i]` */
  at: PathKey[];
  journey: string;
  index: number;
  compiler: ProfileCompiler;
  /** Built-ins, feeders and earlier steps' captures; this step's captures are added to it. */
  known: Set<string>;
  feeders: Record<string, FeederSpec>;
}

export function compileStep(s: Static<typeof StepSchema>, site: StepSite): Step {
  const { at, compiler, known, feeders } = site;
  const m = /^([A-Z]+)\s+(\/\S*)$/.exec(s.request.trim());
  if (!m || !METHODS.includes(m[1]!)) {
    compiler.add([...at, 'request'], `"${s.request}" is not "METHOD /path"`, `write the method (${METHODS.join(', ')}) then the path, e.g. request: GET /api/catalog/products`);
  }
  const method = m?.[1] ?? 'GET';
  const rawPath = m?.[2] ?? '/';
  const placeholders = (source: string, path: PathKey[]): PlaceholderText => {
    try {
      return parsePlaceholders(source);
    } catch (err) {
      compiler.add(path, (err as Error).message, 'write placeholders as {{name}} or {{feeder.field}}');
      return parsePlaceholders('');
    }
  };
  const checkRefs = (refs: string[][], path: PathKey[]): void => {
    for (const ref of refs) {
      const [head, field] = ref as [string, string | undefined];
      const feeder = feeders[head];
      if (head === SESSION_VAR) {
        if (!known.has(head)) compiler.add(path, `uses {{${ref.join('.')}}}, but the profile has no sessions: section`, 'add sessions: {login: <the journey that signs in>} ("Sessions" in loadtest/README.md), or capture the token in an earlier step');
        else if (field !== 'token') compiler.add(path, `{{${ref.join('.')}}} names no field of the session`, 'use {{session.token}}');
        continue;
      }
      if (!known.has(head)) {
        const choices = [...known];
        compiler.add(path, `uses {{${ref.join('.')}}}, which no feeder, built-in or earlier capture defines${didYouMean(head, choices)}`, `use one of ${choices.join(', ')}, or capture "${head}" in an earlier step`);
      } else if (feeder) {
        const fields = feederKind(feeder.type).fields;
        if (!field || !fields.includes(field)) compiler.add(path, `{{${ref.join('.')}}} names no field of the ${feeder.type} feeder "${head}"`, `use one of ${fields.map((f) => `{{${head}.${f}}}`).join(', ')}`);
      } else if (field) {
        compiler.add(path, `{{${ref.join('.')}}}: "${head}" has no fields`, `write {{${head}}}`);
      }
    }
  };
  const path = placeholders(rawPath, [...at, 'request']);
  checkRefs(placeholderRefs(path), [...at, 'request']);
  const headers: Array<[string, PlaceholderText]> = Object.entries(s.headers ?? {}).map(([k, v]) => {
    const t = placeholders(v, [...at, 'headers', k]);
    checkRefs(placeholderRefs(t), [...at, 'headers', k]);
    if (!/^[A-Za-z0-9-]+$/.test(k)) compiler.add([...at, 'headers', k], `"${k}" is not a header name`, 'use letters, digits and -', true);
    return [k, t];
  });
  let json: JsonWithPlaceholders | undefined;
  if (s.json !== undefined) {
    try {
      json = parseJsonPlaceholders(s.json);
      checkRefs(jsonPlaceholderRefs(json), [...at, 'json']);
    } catch (err) {
      compiler.add([...at, 'json'], (err as Error).message, 'write placeholders as {{name}} or {{feeder.field}}');
    }
  }
  const captures: Capture[] = Object.entries(s.capture ?? {}).map(([name, source]) => {
    if (!/^[A-Za-z_][\w-]*$/.test(name)) compiler.add([...at, 'capture', name], `"${name}" cannot be a variable name`, 'use letters, digits, _ and -, starting with a letter', true);
    if (BUILTINS.includes(name) || name === SESSION_VAR || feeders[name]) compiler.add([...at, 'capture', name], `"${name}" is already a ${feeders[name] ? 'feeder' : 'built-in variable'}`, 'capture into another name', true);
    try {
      return { name, expr: parseCapture(source) };
    } catch (err) {
      if (!(err instanceof StepSyntaxError)) throw err;
      compiler.add([...at, 'capture', name], err.message, 'write a path into the JSON answer such as token, items[0].sku, items[*].sku, or header:etag');
      return { name, expr: { from: 'body', segments: [] } };
    }
  });
  for (const c of captures) known.add(c.name);
  const endpoint = s.endpoint ?? `${method} ${rawPath.split('?')[0]!.replace(/\{\{\s*([\w.-]+)\s*\}\}/g, (_, ref: string) => `:${ref.split('.').pop()}`)}`;
  const sale = s.sale ?? false;
  const step: Step = {
    journey: site.journey,
    index: site.index,
    name: s.name ?? `step${site.index + 1}`,
    endpoint,
    method,
    path,
    headers,
    json,
    expect: s.expect ?? null,
    captures,
    pauseMs: s.pause === undefined ? 0 : compiler.duration(s.pause, [...at, 'pause'], 'the pause'),
    sale,
    needsResponse: captures.length > 0 || sale,
    usesSession: false,
  };
  step.usesSession = usesSession(step);
  if (step.sale && !(json && json.kind === 'object')) compiler.add([...at, 'sale'], 'marks a step without a JSON body as a sale', 'send the basket as json: {items: [{sku, qty}]} on the sale step');
  return step;
}
