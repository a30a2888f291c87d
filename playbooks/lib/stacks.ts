// Templates as the stack module sends them: the body (the smaller of YAML and compact JSON, both
// of which CloudFormation reads), its hash, and the parameters a template declares, filled from
// the outputs of earlier stacks by name. The renderers never see AWS; this is where their output
// meets the API.
import { createHash } from 'node:crypto';
import { parse, stringify } from 'yaml';
import type { Input } from './templates.js';

export type Template = Record<string, unknown>;

/** CloudFormation's limit for TemplateBody; larger templates go through S3 (TemplateURL). */
export const INLINE_TEMPLATE_LIMIT = 51_200;

export function templateBody(template: Template): string {
  const yaml = stringify(template, { lineWidth: 0, aliasDuplicateObjects: false });
  const json = JSON.stringify(template);
  return json.length < yaml.length ? json : yaml;
}

/** Reads a template body back (GetTemplate answers what was sent: YAML or JSON). */
export function parseTemplate(body: string | undefined): Template | undefined {
  if (!body) return undefined;
  try {
    const doc: unknown = parse(body, { logLevel: 'silent' });
    return doc && typeof doc === 'object' ? (doc as Template) : undefined;
  } catch {
    return undefined;
  }
}

export const sha256 = (text: string | Buffer): string => createHash('sha256').update(text).digest('hex');

interface ParameterDeclaration {
  Default?: unknown;
  NoEcho?: unknown;
}

export function declaredParameters(template: Template): Record<string, ParameterDeclaration> {
  return (template.Parameters ?? {}) as Record<string, ParameterDeclaration>;
}

export interface ResolvedParameters {
  values: Record<string, string>;
  /** Declared, without a default, and nowhere to be found (with where it would come from). */
  missing: string[];
}

/** Where input values come from during a run. */
export interface InputSources {
  outputs(stack: string): Record<string, string> | undefined;
  artifact(service: string): Record<'bucket' | 'key' | 'sha256', string> | undefined;
  secret(name: string): string | undefined;
}

const describeInput = (i: Input): string =>
  i.from === 'output' ? `output ${i.output} of ${i.stack}` : i.from === 'artifact' ? `the ${i.service} artifact ${i.field}` : `secret ${i.secret}`;

/**
 * Fills a template's parameters from the inputs the renderer declared (outputs of earlier
 * stacks, artifacts, secrets). Parameters with a Default and no input are left out, so
 * CloudFormation uses the default.
 */
export function resolveParameters(template: Template, inputs: Record<string, Input>, sources: InputSources): ResolvedParameters {
  const values: Record<string, string> = {};
  const missing: string[] = [];
  for (const [name, decl] of Object.entries(declaredParameters(template))) {
    const input = inputs[name];
    let value: string | undefined;
    if (input?.from === 'output') value = sources.outputs(input.stack)?.[input.output];
    else if (input?.from === 'artifact') value = sources.artifact(input.service)?.[input.field];
    else if (input?.from === 'secret') value = sources.secret(input.secret);
    if (value !== undefined) values[name] = value;
    else if (decl?.Default === undefined) missing.push(input ? `${name} (${describeInput(input)})` : `${name} (no source declared)`);
  }
  return { values, missing };
}

export function resourceCount(template: Template): number {
  return Object.keys(template.Resources ?? {}).length;
}
