// The shape of a CloudFormation template, the intrinsic functions the renderers use (long form,
// so a template is plain JSON-compatible data any tool can walk), and the one YAML writer.
import { Document, isScalar, visit } from 'yaml';

export type Value = string | number | boolean | null | Value[] | { [key: string]: Value };
/** What may appear where CloudFormation expects a value: literals or intrinsic functions. */
export type Expr = Value;

export interface Parameter {
  Type: string;
  Description: string;
  Default?: string | number;
  AllowedPattern?: string;
  AllowedValues?: Array<string | number>;
  ConstraintDescription?: string;
  MinLength?: number;
  MaxLength?: number;
  MinValue?: number;
  MaxValue?: number;
  NoEcho?: boolean;
}

export interface Resource {
  Type: string;
  Condition?: string;
  DependsOn?: string | string[];
  Metadata?: { [key: string]: Value };
  CreationPolicy?: { [key: string]: Value };
  UpdatePolicy?: { [key: string]: Value };
  DeletionPolicy?: 'Delete' | 'Retain' | 'RetainExceptOnCreate' | 'Snapshot';
  UpdateReplacePolicy?: 'Delete' | 'Retain' | 'Snapshot';
  Properties?: { [key: string]: Value };
}

export interface Output {
  Description: string;
  Value: Expr;
  Export?: { Name: Expr };
}

/** A type, not an interface: assignable wherever plain template data (Record<string, unknown>) is expected. */
export type Template = {
  AWSTemplateFormatVersion: '2010-09-09';
  Description: string;
  Metadata?: { [key: string]: Value };
  Parameters: Record<string, Parameter>;
  Conditions?: Record<string, Expr>;
  Resources: Record<string, Resource>;
  Outputs: Record<string, Output>;
};

// --- intrinsic functions (long form) -------------------------------------------------------------

export const ref = (name: string): Expr => ({ Ref: name });
export const getAtt = (resource: string, attribute: string): Expr => ({ 'Fn::GetAtt': [resource, attribute] });
export const sub = (text: string, variables?: Record<string, Expr>): Expr =>
  variables ? { 'Fn::Sub': [text, variables] } : { 'Fn::Sub': text };
export const join = (separator: string, parts: Expr[]): Expr => ({ 'Fn::Join': [separator, parts] });
export const select = (index: number, list: Expr): Expr => ({ 'Fn::Select': [String(index), list] });
export const getAZs = (): Expr => ({ 'Fn::GetAZs': '' });
export const base64 = (value: Expr): Expr => ({ 'Fn::Base64': value });
export const split = (separator: string, value: Expr): Expr => ({ 'Fn::Split': [separator, value] });
export const ifCondition = (condition: string, whenTrue: Expr, whenFalse: Expr): Expr => ({ 'Fn::If': [condition, whenTrue, whenFalse] });
export const NO_VALUE: Expr = { Ref: 'AWS::NoValue' };

export const PSEUDO_PARAMETERS = [
  'AWS::AccountId', 'AWS::NotificationARNs', 'AWS::NoValue', 'AWS::Partition', 'AWS::Region',
  'AWS::StackId', 'AWS::StackName', 'AWS::URLSuffix',
] as const;

/** The intrinsic function name when `value` is one (a single-key object `Ref` or `Fn::*`). */
export function intrinsicName(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const keys = Object.keys(value);
  if (keys.length !== 1) return undefined;
  const key = keys[0]!;
  return key === 'Ref' || key.startsWith('Fn::') || key === 'Condition' ? key : undefined;
}

/** Variable names a Fn::Sub string refers to: `${Name}` and `${Res.Attr}`, not the escaped `${!Literal}`. */
export function subVariables(text: string): string[] {
  const names: string[] = [];
  for (const m of text.matchAll(/\$\{([^}]*)\}/g)) {
    const inner = m[1]!;
    if (!inner.startsWith('!')) names.push(inner.trim());
  }
  return names;
}

// --- YAML -----------------------------------------------------------------------------------------------

/** YAML 1.1 timestamps: quoted explicitly, so no parser (or library setting) turns them into dates. */
const TIMESTAMP = /^\d{4}-\d{1,2}-\d{1,2}(([Tt]|[ \t]+)\d{1,2}:\d{2}:\d{2}(\.\d*)?([ \t]*Z|[-+]\d{1,2}(:\d{2})?)?)?$/;

/**
 * The one YAML writer: insertion-ordered keys (renderers build objects deterministically), no
 * anchors or aliases (shared objects are written out in full), no line folding, multi-line strings
 * as literal blocks (user-data stays readable in reviews), and YAML 1.1 quoting so strings such as
 * `on`, `yes` or `2010-09-09` stay strings for parsers that read YAML 1.1. Timestamps are quoted by
 * hand: the yaml library's own choice depends on a process-wide tag setting other code can change.
 */
export function toYaml(template: Template, header?: string): string {
  const doc = new Document(template, { version: '1.1', aliasDuplicateObjects: false });
  visit(doc, {
    Scalar(_, node) {
      if (isScalar(node) && typeof node.value === 'string' && TIMESTAMP.test(node.value)) node.type = 'QUOTE_DOUBLE';
    },
  });
  const body = doc.toString({ lineWidth: 0, minContentWidth: 0, blockQuote: 'literal', indent: 2 });
  return header ? `${header.split('\n').map((l) => `# ${l}`.trimEnd()).join('\n')}\n${body}` : body;
}
