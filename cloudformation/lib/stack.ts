// The stack contract, and what every stack renderer shares: a rendered stack with the inputs its
// parameters take at deploy time (an output of another stack, the service artifact, or a secret
// the playbook created), output references named once by the renderer that defines the output, the
// standard tags, and a small builder that keeps parameters, resources and outputs in one order.
import type { Environment, SharedSecretName, STANDARD_TAG_KEYS } from '../../environment/index.js';
import { resourcePrefix } from '../../environment/index.js';
import { ref, type Expr, type Output, type Parameter, type Resource, type Template, type Value } from './template.js';

/** An output of a stack, as the stacks and plays that read it refer to it. */
export interface OutputRef {
  from: 'output';
  stack: string;
  output: string;
}

/** Where the playbook finds a parameter's value when it deploys the stack. */
export type Input =
  | OutputRef
  | { from: 'artifact'; service: string; field: 'bucket' | 'key' | 'sha256' }
  /** A shared secret the playbook creates in Secrets Manager (environment/shared-secrets.ts): its ARN. */
  | { from: 'secret'; secret: SharedSecretName }
  /**
   * The version id of a shared secret's AWSCURRENT version, or of its AWSPENDING one ('' when there
   * is none): a stack that resolves the value by version id updates when the version changes.
   */
  | { from: 'secret-version'; secret: SharedSecretName; stage: SecretStage }
  /** A value the playbook looks up in the region at deploy time (AWS-owned ids that differ per region). */
  | { from: 'lookup'; lookup: RegionalLookup }
  /** An Amazon Linux 2023 AMI id, pinned by the playbook (the stack's current one unless asked to move). */
  | { from: 'image'; architecture: 'arm64' | 'x86_64' };

/** The version of a secret a stack resolves: the one in use, or the one a rotation is bringing in. */
export type SecretStage = 'current' | 'pending';
/** What the playbook looks up per region: the CloudFront origin-facing managed prefix list's id. */
export type RegionalLookup = 'cloudfront-origin-prefix-list';

/** One stack of an environment, rendered: what the playbooks validate, write and deploy. */
export interface RenderedStack {
  /** Stack key and file name: network, service-catalog, … */
  name: string;
  /** The CloudFormation stack name, `<project>-<environment>-<name>`. */
  stackName: string;
  /** The service a per-service stack runs (--limit, task tags, the Service tag); unset for shared stacks. */
  service?: string | undefined;
  template: Template;
  /** For every parameter without a default: where its value comes from. */
  inputs: Record<string, Input>;
}

export const fromOutput = (stack: string, output: string): OutputRef => ({ from: 'output', stack, output });

/** References to the named outputs of a stack, for its renderer to define and others to read. */
export function stackOutputs<const Name extends string>(stack: string, names: readonly Name[]): Readonly<Record<Name, OutputRef>> {
  const refs: Partial<Record<Name, OutputRef>> = {};
  for (const n of names) refs[n] = fromOutput(stack, n);
  return refs as Readonly<Record<Name, OutputRef>>;
}

/** PascalCase of a slug, for logical ids: `black-friday-2026` → `BlackFriday2026`. */
export function pascal(slug: string): string {
  return slug.split(/[^A-Za-z0-9]+/).filter(Boolean).map((p) => p[0]!.toUpperCase() + p.slice(1)).join('');
}

export class StackBuilder {
  private readonly parameters: Record<string, Parameter> = {};
  private readonly conditions: Record<string, Expr> = {};
  private readonly resources: Record<string, Resource> = {};
  private readonly outputs: Record<string, Output> = {};
  private readonly inputs: Record<string, Input> = {};

  /** The Service tag: the service for per-service stacks, the stack otherwise. */
  private readonly serviceTag: string;

  constructor(
    readonly inv: Environment,
    readonly name: string,
    private readonly description: string,
    /** Set for per-service stacks: the service the stack runs. */
    readonly service?: string,
  ) {
    this.serviceTag = service ?? name;
  }

  /** `<project>-<environment>-<suffix>`, for the few resources that need a name. */
  prefixed(suffix: string): string {
    return `${resourcePrefix(this.inv)}-${suffix}`;
  }

  /** Declares a parameter and, unless it has a default, where the playbook gets its value. */
  param(name: string, parameter: Parameter, input?: Input): Expr {
    if (this.parameters[name]) throw new Error(`${this.name}: parameter ${name} declared twice`);
    this.parameters[name] = parameter;
    if (input) this.inputs[name] = input;
    return ref(name);
  }

  /** Declares a condition (resources and Fn::If name it). */
  condition(name: string, expr: Expr): string {
    if (this.conditions[name]) throw new Error(`${this.name}: condition ${name} declared twice`);
    this.conditions[name] = expr;
    return name;
  }

  resource(logicalId: string, resource: Resource): string {
    if (!/^[A-Za-z0-9]+$/.test(logicalId)) throw new Error(`${this.name}: logical id ${logicalId} must be alphanumeric`);
    if (this.resources[logicalId]) throw new Error(`${this.name}: resource ${logicalId} declared twice`);
    this.resources[logicalId] = resource;
    return logicalId;
  }

  /** Declares an output, by name or by the reference other stacks read it through. */
  output(output: string | OutputRef, description: string, value: Expr): void {
    if (typeof output !== 'string' && output.stack !== this.name) throw new Error(`${this.name}: output ${output.output} is referenced as ${output.stack}'s`);
    const name = typeof output === 'string' ? output : output.output;
    if (this.outputs[name]) throw new Error(`${this.name}: output ${name} declared twice`);
    this.outputs[name] = { Description: description, Value: value };
  }

  /** The standard tags (plus the inventory's extra tags and `extra`), as a CloudFormation tag list. */
  tags(extra: Record<string, string> = {}): Value {
    return Object.entries(this.tagMap(extra)).map(([Key, Value]) => ({ Key, Value }));
  }

  /** Auto Scaling group tags: the same tags, propagated to the instances it launches. */
  asgTags(extra: Record<string, string> = {}): Value {
    return Object.entries(this.tagMap(extra)).map(([Key, Value]) => ({ Key, Value, PropagateAtLaunch: true }));
  }

  tagMap(extra: Record<string, string> = {}): Record<string, string> {
    const standard: Record<(typeof STANDARD_TAG_KEYS)[number], string> = {
      Project: this.inv.project,
      Environment: this.inv.environment,
      Service: this.serviceTag,
      CostCentre: this.inv.costCentre,
    };
    const custom = Object.fromEntries(Object.entries(this.inv.tags).sort(([a], [b]) => a.localeCompare(b)));
    return { ...standard, ...custom, ...extra };
  }

  build(): RenderedStack {
    return {
      name: this.name,
      stackName: this.prefixed(this.name),
      ...(this.service ? { service: this.service } : {}),
      template: {
        AWSTemplateFormatVersion: '2010-09-09',
        Description: `${this.inv.project} ${this.inv.environment} ${this.name}: ${this.description}`,
        Parameters: this.parameters,
        ...(Object.keys(this.conditions).length ? { Conditions: this.conditions } : {}),
        Resources: this.resources,
        Outputs: this.outputs,
      },
      inputs: this.inputs,
    };
  }
}

// Parameter shapes used by more than one stack, each constrained as CloudFormation allows.
export const VPC_ID: Parameter = { Type: 'AWS::EC2::VPC::Id', Description: 'The VPC (network stack output VpcId)' };
export const CIDR: Parameter = {
  Type: 'String',
  Description: 'The VPC CIDR block (network stack output VpcCidr)',
  AllowedPattern: '^(\\d{1,3}\\.){3}\\d{1,3}/\\d{1,2}$',
  ConstraintDescription: 'an IPv4 CIDR block such as 10.40.0.0/16',
};
/** The artifacts bucket the playbook uploads service and bootstrap code to. */
export const ARTIFACT_BUCKET: Parameter = {
  Type: 'String',
  Description: 'The artifact bucket',
  AllowedPattern: '^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$',
  ConstraintDescription: 'an S3 bucket name',
};
export const subnetList = (description: string): Parameter => ({ Type: 'List<AWS::EC2::Subnet::Id>', Description: description });
export const securityGroupId = (description: string): Parameter => ({ Type: 'AWS::EC2::SecurityGroup::Id', Description: description });
export const secretArn = (description: string): Parameter => ({
  Type: 'String',
  Description: description,
  AllowedPattern: '^arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:\\d{12}:secret:[A-Za-z0-9/_+=.@-]+$',
  ConstraintDescription: 'a Secrets Manager secret ARN',
});
export const fullName = (description: string, prefix: 'app' | 'targetgroup'): Parameter => ({
  Type: 'String',
  Description: description,
  AllowedPattern: prefix === 'app' ? '^app/[A-Za-z0-9-]+/[0-9a-f]+$' : '^targetgroup/[A-Za-z0-9-]+/[0-9a-f]+$',
  ConstraintDescription: prefix === 'app' ? 'a load balancer full name (app/<name>/<id>)' : 'a target group full name (targetgroup/<name>/<id>)',
});
