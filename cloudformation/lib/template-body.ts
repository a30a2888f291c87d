// A template as CloudFormation receives it: the body a deploy sends (the smaller of YAML and
// compact JSON, both of which CloudFormation reads), the size over which it goes through S3
// instead, and a body read back from CloudFormation. The files under build/ are written by
// template.ts's toYaml, for people; this is the wire.
import { parse, stringify } from 'yaml';
import type { Template } from './template.js';

/** CloudFormation's limit for TemplateBody; larger templates go through S3 (TemplateURL). */
export const TEMPLATE_BODY_LIMIT = 51_200;

export function templateBody(template: Template): string {
  const yaml = stringify(template, { lineWidth: 0, aliasDuplicateObjects: false });
  const json = JSON.stringify(template);
  return json.length < yaml.length ? json : yaml;
}

/** Whether a deploy sends the template through S3 rather than inline. */
export const uploadsTemplate = (template: Template): boolean => templateBody(template).length > TEMPLATE_BODY_LIMIT;

/** A template as deployed, read back: whatever was sent, not checked against any shape. */
export type DeployedTemplate = Record<string, unknown>;

/** Reads a template body back (GetTemplate answers what was sent: YAML or JSON). */
export function parseTemplateBody(body: string | undefined): DeployedTemplate | undefined {
  if (!body) return undefined;
  try {
    const doc: unknown = parse(body, { logLevel: 'silent' });
    return doc && typeof doc === 'object' ? (doc as DeployedTemplate) : undefined;
  } catch {
    return undefined;
  }
}
