// What a playbook needs from the CloudFormation side: render every stack of an inventory, check
// the templates, write them under build/. The renderers in cloudformation/ are pure functions;
// this interface is where a target plugs them in (and where tests plug in fixtures).
import type { Template } from './stacks.js';

export interface RenderedStack {
  /** network, database, load-balancer, service-<name>, static-site, monitoring, ... */
  key: string;
  /** Set for per-service stacks (--limit). */
  service?: string | undefined;
  template: Template;
}

export interface Finding {
  severity: 'error' | 'warning';
  stack: string;
  rule: string;
  message: string;
}

export interface TemplateSource {
  render(): RenderedStack[];
  validate(stacks: RenderedStack[]): Finding[];
  /** Writes build/cloudformation/<env>/<stack>.yaml; returns the files that changed. */
  write(stacks: RenderedStack[]): Promise<string[]>;
}

/** What a deploy play knows of an inventory (the loader validates the full shape). */
export interface InventoryView {
  environment: string;
  target: 'aws' | 'local';
  region: string;
  project?: string | undefined;
  services: Record<string, { desired?: number | undefined; min?: number | undefined; max?: number | undefined } | undefined>;
}

export const stackName = (inv: InventoryView, key: string): string => `${inv.project ?? 'saleday'}-${inv.environment}-${key}`;
