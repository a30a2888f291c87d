// A stack's parameter values at deploy time, filled from the inputs its renderer declared: outputs
// of stacks deployed before it, the service artifact, the shared secrets' ARNs. The renderers
// never see AWS; this is where their inputs meet the values of one run.
import type { Input, RegionalLookup, SecretStage, Template } from '../../cloudformation/index.js';

export interface ResolvedParameters {
  values: Record<string, string>;
  /** Declared, without a default, and nowhere to be found (with where it would come from). */
  missing: string[];
}

/** Where input values come from during a run. */
export interface InputSources {
  outputs(stack: string): Record<string, string> | undefined;
  artifact(service: string): Partial<Record<'bucket' | 'key' | 'sha256', string>> | undefined;
  secret(name: string): string | undefined;
  /** A secret's version id at a stage ('' for a stage no version has). */
  secretVersion(name: string, stage: SecretStage): string | undefined;
  /** A value looked up in the region (the CloudFront prefix list's id). */
  lookup(name: RegionalLookup): string | undefined;
  /** The AMI id this stack runs (pinned per stack by the deploy). */
  image(architecture: 'arm64' | 'x86_64'): string | undefined;
}

export function describeInput(i: Input): string {
  switch (i.from) {
    case 'output': return `output ${i.output} of ${i.stack}`;
    case 'artifact': return `the ${i.service} artifact ${i.field}`;
    case 'secret': return `secret ${i.secret}`;
    case 'secret-version': return `the ${i.stage} version of secret ${i.secret}`;
    case 'lookup': return `the ${i.lookup} lookup`;
    case 'image': return `the pinned ${i.architecture} AMI`;
  }
}

/** One input's value in this run, when it is there. */
export function inputValue(input: Input, sources: InputSources): string | undefined {
  if (input.from === 'output') return sources.outputs(input.stack)?.[input.output];
  if (input.from === 'artifact') return sources.artifact(input.service)?.[input.field];
  if (input.from === 'secret-version') return sources.secretVersion(input.secret, input.stage);
  if (input.from === 'lookup') return sources.lookup(input.lookup);
  if (input.from === 'image') return sources.image(input.architecture);
  return sources.secret(input.secret);
}

/**
 * Fills a template's parameters from the inputs the renderer declared. Parameters with a Default
 * and no value are left out, so CloudFormation uses the default.
 */
export function resolveParameters(template: Template, inputs: Record<string, Input>, sources: InputSources): ResolvedParameters {
  const values: Record<string, string> = {};
  const missing: string[] = [];
  for (const [name, decl] of Object.entries(template.Parameters)) {
    const input = inputs[name];
    const value = input ? inputValue(input, sources) : undefined;
    if (value !== undefined) values[name] = value;
    else if (decl.Default === undefined) missing.push(input ? `${name} (${describeInput(input)})` : `${name} (no source declared)`);
  }
  return { values, missing };
}
