// What a playbook needs from the CloudFormation side: render every stack of an inventory, check
// the templates, write them under build/. The renderers in cloudformation/ are pure functions;
// this interface is where a target plugs them in (and where tests plug in fixtures).
import type { Template } from './stacks.js';

/** Where the playbook finds a parameter's value at deploy time (declared by the renderer). */
export type Input =
  | { from: 'output'; stack: string; output: string }
  | { from: 'artifact'; service: string; field: 'bucket' | 'key' | 'sha256' }
  | { from: 'secret'; secret: string };

export interface RenderedStack {
  /** network, database, load-balancer, service-<name>, static-site, monitoring, ... */
  key: string;
  /** The CloudFormation stack name; `<project>-<environment>-<key>` when not given. */
  stackName?: string | undefined;
  /** Set for per-service stacks (--limit). */
  service?: string | undefined;
  template: Template;
  /** For every parameter without a default: where its value comes from. */
  inputs?: Record<string, Input> | undefined;
}

export interface Finding {
  severity: 'error' | 'warning';
  stack: string;
  rule: string;
  message: string;
  path?: string | undefined;
}

export interface TemplateSource {
  render(): RenderedStack[];
  validate(stacks: RenderedStack[]): Promise<Finding[]>;
  /** Writes build/cloudformation/<env>/<stack>.yaml; returns the files that changed. */
  write(stacks: RenderedStack[]): Promise<string[]>;
}

export interface ServiceView {
  scaling?: { min?: number | undefined; max?: number | undefined; desired?: number | undefined } | undefined;
}

/** What a deploy play knows of an inventory (the loader validates the full shape). */
export interface InventoryView {
  project?: string | undefined;
  environment: string;
  target: 'aws' | 'local';
  region: string;
  services: Record<string, ServiceView | undefined>;
  /** The artifacts bucket ({accountId} and {region} filled in at deploy time) and key prefix. */
  artifacts?: { bucket: string; keyPrefix: string } | undefined;
}

export const stackName = (inv: InventoryView, stack: Pick<RenderedStack, 'key' | 'stackName'>): string =>
  stack.stackName ?? `${inv.project ?? 'saleday'}-${inv.environment}-${stack.key}`;

export const artifactBucketName = (inv: InventoryView, accountId: string): string =>
  (inv.artifacts?.bucket ?? '{project}-artifacts-{accountId}-{region}')
    .replaceAll('{accountId}', accountId)
    .replaceAll('{region}', inv.region)
    .replaceAll('{project}', inv.project ?? 'saleday');
