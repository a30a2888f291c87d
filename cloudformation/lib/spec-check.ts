// Checks a template against the CloudFormation resource specification published on npm
// (@aws-cdk/aws-service-spec): known resource types, known property names at every depth, value
// types, required properties, valid Fn::GetAtt attributes, every Ref/GetAtt/Sub target present,
// every parameter used and constrained, every taggable resource tagged, and the template limits.
// Offline, no AWS call: the playbook runs it before every deploy and the tests run it on every
// environment.
import { loadAwsServiceSpec } from '@aws-cdk/aws-service-spec';
import type { Property, PropertyType, Resource as SpecResource, SpecDatabase } from '@aws-cdk/service-spec-types';
import { STANDARD_TAG_KEYS } from '../../environment/index.js';
import type { Finding } from './findings.js';
import { intrinsicName, PSEUDO_PARAMETERS, subVariables, type Template } from './template.js';

export type ResourceSpec = SpecDatabase;

let cached: Promise<SpecDatabase> | undefined;
/** The resource specification, loaded once per process (about a second: it is a large file). */
export function loadResourceSpec(): Promise<SpecDatabase> {
  cached ??= loadAwsServiceSpec();
  return cached;
}

const RESOURCE_KEYS = new Set(['Type', 'Properties', 'DependsOn', 'DeletionPolicy', 'UpdateReplacePolicy', 'CreationPolicy', 'UpdatePolicy', 'Metadata', 'Condition']);
const TEMPLATE_KEYS = new Set(['AWSTemplateFormatVersion', 'Description', 'Metadata', 'Parameters', 'Mappings', 'Conditions', 'Resources', 'Outputs']);
const AWS_PARAMETER_TYPE = /^(List<)?AWS::/;
const PSEUDO = new Set<string>(PSEUDO_PARAMETERS);
/** EC2 accepts at most 16 KB of user data (before base64). */
const USER_DATA_LIMIT = 16 * 1024;

export function checkAgainstSpec(template: Template, spec: SpecDatabase, stack = 'template'): Finding[] {
  const findings: Finding[] = [];
  const add = (rule: string, path: string, message: string, resource?: string) =>
    findings.push({ rule, severity: 'error', stack, path, message, ...(resource ? { resource } : {}) });

  // --- the template as a whole ------------------------------------------------------------------
  for (const key of Object.keys(template)) {
    if (key === 'Transform') add('no-transform', key, 'no Transform (no SAM, no macros): the templates are plain CloudFormation');
    else if (!TEMPLATE_KEYS.has(key)) add('template-section', key, `unknown template section ${key}`);
  }
  if (!template.Description?.trim()) add('template-description', 'Description', 'every template needs a Description');
  else if (template.Description.length > 1024) add('template-description', 'Description', `Description is ${template.Description.length} characters (CloudFormation allows 1024)`);
  const resources = template.Resources ?? {};
  const parameters = template.Parameters ?? {};
  const outputs = template.Outputs ?? {};
  if (Object.keys(resources).length === 0) add('template-limits', 'Resources', 'a template needs at least one resource');
  if (Object.keys(resources).length > 500) add('template-limits', 'Resources', `${Object.keys(resources).length} resources (CloudFormation allows 500)`);
  if (Object.keys(parameters).length > 200) add('template-limits', 'Parameters', 'more than 200 parameters');
  if (Object.keys(outputs).length > 200) add('template-limits', 'Outputs', 'more than 200 outputs');
  if (Object.keys(outputs).length === 0) add('outputs', 'Outputs', 'every template exports what later stacks and the playbook need as Outputs');
  for (const [name, p] of Object.entries(parameters)) {
    const path = `Parameters.${name}`;
    if (!/^[A-Za-z0-9]+$/.test(name)) add('parameter-name', path, 'parameter names are alphanumeric');
    if (!p.Description?.trim()) add('parameter-description', path, 'every parameter needs a Description');
    const constrained = AWS_PARAMETER_TYPE.test(p.Type) || p.Type.startsWith('AWS::SSM::Parameter::Value<') ||
      [p.AllowedPattern, p.AllowedValues, p.MinLength, p.MaxLength, p.MinValue, p.MaxValue].some((c) => c !== undefined);
    if (!constrained) add('parameter-constraint', path, 'a parameter needs a constraint (AllowedPattern, AllowedValues, a length or value range) or an AWS-specific type');
    if (p.AllowedPattern) {
      try {
        new RegExp(p.AllowedPattern);
      } catch {
        add('parameter-constraint', `${path}.AllowedPattern`, 'AllowedPattern is not a valid regular expression');
      }
      if (typeof p.Default === 'string' && !new RegExp(p.AllowedPattern).test(p.Default)) add('parameter-constraint', `${path}.Default`, 'the Default does not match AllowedPattern');
    }
  }
  for (const [name, o] of Object.entries(outputs)) {
    if (!/^[A-Za-z0-9]+$/.test(name)) add('output-name', `Outputs.${name}`, 'output names are alphanumeric');
    if (!o.Description?.trim()) add('output-description', `Outputs.${name}`, 'every output needs a Description');
    if (o.Value === undefined || o.Value === null || o.Value === '') add('output-value', `Outputs.${name}.Value`, 'an output needs a non-empty Value');
  }

  // --- resources against the specification -------------------------------------------------------
  const typeOf = new Map<string, SpecResource>();
  for (const [id, resource] of Object.entries(resources)) {
    const path = `Resources.${id}`;
    if (!/^[A-Za-z0-9]+$/.test(id)) add('logical-id', path, 'logical ids are alphanumeric');
    for (const key of Object.keys(resource)) if (!RESOURCE_KEYS.has(key)) add('resource-attribute', `${path}.${key}`, `unknown resource attribute ${key}`, id);
    const found = spec.lookup('resource', 'cloudFormationType', 'equals', resource.Type);
    if (found.length !== 1) {
      add('resource-type', `${path}.Type`, `${resource.Type} is not a resource type in the CloudFormation specification`, id);
      continue;
    }
    const specResource = found[0]!;
    typeOf.set(id, specResource);
    if (specResource.cloudFormationTransform) add('no-transform', `${path}.Type`, `${resource.Type} needs the ${specResource.cloudFormationTransform} transform`, id);
    checkProperties(spec, specResource.properties, resource.Properties ?? {}, `${path}.Properties`, (p, m) => add(ruleOf(m), p, m, id));
    for (const dep of [resource.DependsOn ?? []].flat()) {
      if (!resources[dep]) add('reference-target', `${path}.DependsOn`, `DependsOn ${dep}: no such resource`, id);
    }
    checkTags(specResource, resource.Properties ?? {}, path, (p, m) => add('tags', p, m, id));
    checkUserDataSize(resource.Properties ?? {}, path, (p, m) => add('user-data-size', p, m, id));
  }

  // --- references: Ref, Fn::GetAtt and Fn::Sub targets, and parameter use --------------------------
  const used = new Set<string>();
  const checkRef = (target: string, path: string, resource?: string) => {
    if (PSEUDO.has(target)) return;
    if (parameters[target]) used.add(target);
    else if (!resources[target]) add('reference-target', path, `Ref ${target}: no such parameter or resource`, resource);
  };
  const checkGetAtt = (target: string, attribute: string, path: string, resource?: string) => {
    if (!resources[target]) {
      add('reference-target', path, `Fn::GetAtt ${target}.${attribute}: no such resource`, resource);
      return;
    }
    const specResource = typeOf.get(target);
    if (specResource && !(attribute in specResource.attributes)) {
      add('getatt-attribute', path, `Fn::GetAtt ${target}.${attribute}: ${specResource.cloudFormationType} has no attribute ${attribute} (it has ${Object.keys(specResource.attributes).slice(0, 8).join(', ')}${Object.keys(specResource.attributes).length > 8 ? ', …' : ''})`, resource);
    }
  };
  const visit = (value: unknown, path: string, resource: string | undefined, locals: Set<string>): void => {
    if (Array.isArray(value)) return value.forEach((v, i) => visit(v, `${path}[${i}]`, resource, locals));
    if (value === null || typeof value !== 'object') return;
    const fn = intrinsicName(value);
    const arg = (value as Record<string, unknown>)[fn ?? ''];
    if (fn === 'Ref' && typeof arg === 'string') {
      if (!locals.has(arg)) checkRef(arg, path, resource);
      return;
    }
    if (fn === 'Fn::GetAtt') {
      const [target, attribute] = Array.isArray(arg) ? (arg as string[]) : typeof arg === 'string' ? splitOnce(arg) : [];
      if (typeof target === 'string' && typeof attribute === 'string') checkGetAtt(target, attribute, path, resource);
      else add('reference-target', path, 'Fn::GetAtt needs [resource, attribute]', resource);
      return;
    }
    if (fn === 'Fn::Sub') {
      const [text, vars] = Array.isArray(arg) ? (arg as [unknown, Record<string, unknown> | undefined]) : [arg, undefined];
      const names = new Set(Object.keys(vars ?? {}));
      if (vars) visit(vars, `${path}.Fn::Sub[1]`, resource, locals);
      if (typeof text !== 'string') return;
      for (const variable of subVariables(text)) {
        if (names.has(variable)) continue;
        const dot = variable.indexOf('.');
        if (dot > 0 && !variable.startsWith('AWS::')) checkGetAtt(variable.slice(0, dot), variable.slice(dot + 1), path, resource);
        else checkRef(variable, path, resource);
      }
      return;
    }
    for (const [k, v] of Object.entries(value)) visit(v, `${path}.${k}`, resource, locals);
  };
  for (const [id, resource] of Object.entries(resources)) visit(resource, `Resources.${id}`, id, new Set());
  for (const [name, output] of Object.entries(outputs)) visit(output, `Outputs.${name}`, undefined, new Set());
  for (const name of Object.keys(parameters)) {
    if (!used.has(name)) add('parameter-unused', `Parameters.${name}`, `parameter ${name} is never used (no Ref or Fn::Sub refers to it)`);
  }
  return findings;
}

// --- property values --------------------------------------------------------------------------------

type Report = (path: string, message: string) => void;

function ruleOf(message: string): string {
  if (message.startsWith('unknown property')) return 'property-name';
  if (message.startsWith('missing required')) return 'required-property';
  return 'property-type';
}

function checkProperties(spec: SpecDatabase, props: Record<string, Property>, value: unknown, path: string, report: Report): void {
  if (intrinsicName(value)) return;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    report(path, `expected an object, got ${describe(value)}`);
    return;
  }
  const given = value as Record<string, unknown>;
  for (const [key, v] of Object.entries(given)) {
    const prop = props[key];
    if (!prop) {
      report(`${path}.${key}`, `unknown property ${key} (known: ${Object.keys(props).sort().slice(0, 12).join(', ')}${Object.keys(props).length > 12 ? ', …' : ''})`);
      continue;
    }
    const candidates = [prop.type, ...(prop.previousTypes ?? [])];
    const attempts = candidates.map((type) => collect((r) => checkValue(spec, type, v, `${path}.${key}`, r)));
    if (!attempts.some((a) => a.length === 0)) attempts[0]!.forEach(([p, m]) => report(p, m));
  }
  for (const [key, prop] of Object.entries(props)) {
    if (prop.required && !(key in given)) report(`${path}.${key}`, `missing required property ${key}`);
  }
}

function checkValue(spec: SpecDatabase, type: PropertyType, value: unknown, path: string, report: Report): void {
  if (intrinsicName(value)) return; // resolved at deploy time; its references are checked separately
  switch (type.type) {
    case 'string':
      if (!['string', 'number', 'boolean'].includes(typeof value)) report(path, `expected a string, got ${describe(value)}`);
      else if (type.allowedValues && typeof value === 'string' && !type.allowedValues.includes(value)) report(path, `${JSON.stringify(value)} is not one of ${type.allowedValues.join(', ')}`);
      return;
    case 'integer':
    case 'number':
      if (!(typeof value === 'number' || (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))))) report(path, `expected a number, got ${describe(value)}`);
      else if (type.type === 'integer' && !Number.isInteger(Number(value))) report(path, `expected an integer, got ${describe(value)}`);
      else if (type.type === 'integer' && type.allowedValues && !type.allowedValues.includes(Number(value))) report(path, `${describe(value)} is not one of ${type.allowedValues.join(', ')}`);
      return;
    case 'boolean':
      if (!(typeof value === 'boolean' || value === 'true' || value === 'false')) report(path, `expected true or false, got ${describe(value)}`);
      return;
    case 'json':
      if (value === null || !['object', 'string'].includes(typeof value)) report(path, `expected a JSON object, got ${describe(value)}`);
      return;
    case 'date-time':
      if (typeof value !== 'string') report(path, `expected a date-time string, got ${describe(value)}`);
      return;
    case 'null':
      return;
    case 'tag':
      if (value === null || typeof value !== 'object' || typeof (value as { Key?: unknown }).Key !== 'string' || !('Value' in value)) {
        report(path, `expected a tag {Key, Value}, got ${describe(value)}`);
      }
      return;
    case 'array':
      if (!Array.isArray(value)) report(path, `expected a list, got ${describe(value)}`);
      else value.forEach((v, i) => checkValue(spec, type.element, v, `${path}[${i}]`, report));
      return;
    case 'map':
      if (value === null || typeof value !== 'object' || Array.isArray(value)) report(path, `expected a map, got ${describe(value)}`);
      else for (const [k, v] of Object.entries(value)) checkValue(spec, type.element, v, `${path}.${k}`, report);
      return;
    case 'ref': {
      const def = spec.get('typeDefinition', type.reference);
      checkProperties(spec, def.properties, value, path, report);
      return;
    }
    case 'union': {
      const attempts = type.types.map((member) => collect((r) => checkValue(spec, member, value, path, r)));
      if (!attempts.some((a) => a.length === 0)) {
        // Report the member that got furthest (fewest findings): the most useful explanation.
        attempts.sort((a, b) => a.length - b.length)[0]!.forEach(([p, m]) => report(p, m));
      }
      return;
    }
  }
}

function collect(run: (report: Report) => void): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  run((p, m) => out.push([p, m]));
  return out;
}

// --- tags and limits -----------------------------------------------------------------------------------

function checkTags(specResource: SpecResource, properties: Record<string, unknown>, path: string, report: Report): void {
  const info = specResource.tagInformation;
  if (!info) return;
  const tags = properties[info.tagPropertyName];
  const where = `${path}.Properties.${info.tagPropertyName}`;
  let keys: string[];
  if (info.variant === 'map') keys = tags && typeof tags === 'object' && !Array.isArray(tags) ? Object.keys(tags) : [];
  else keys = Array.isArray(tags) ? tags.map((t) => (t as { Key?: unknown }).Key).filter((k): k is string => typeof k === 'string') : [];
  const missing = STANDARD_TAG_KEYS.filter((k) => !keys.includes(k));
  if (missing.length > 0) report(where, `${specResource.cloudFormationType} takes tags: missing ${missing.join(', ')}`);
  if (info.variant === 'asg' && Array.isArray(tags) && tags.some((t) => (t as { PropagateAtLaunch?: unknown }).PropagateAtLaunch !== true)) {
    report(where, 'Auto Scaling group tags should propagate to the instances they launch');
  }
}

function checkUserDataSize(properties: Record<string, unknown>, path: string, report: Report): void {
  const data = (properties.LaunchTemplateData as { UserData?: unknown } | undefined)?.UserData ?? properties.UserData;
  if (data === undefined) return;
  const text = JSON.stringify(data);
  if (Buffer.byteLength(text) > USER_DATA_LIMIT) report(`${path}.Properties.LaunchTemplateData.UserData`, `user data is about ${Buffer.byteLength(text)} bytes; EC2 accepts ${USER_DATA_LIMIT}`);
}

function splitOnce(text: string): [string, string] | [] {
  const dot = text.indexOf('.');
  return dot > 0 ? [text.slice(0, dot), text.slice(dot + 1)] : [];
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return 'a list';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'an object';
  const text = JSON.stringify(value);
  return text.length > 40 ? `${text.slice(0, 40)}…` : text;
}
