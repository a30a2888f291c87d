// Every stack of one environment, in deployment order, and their YAML. Renderers are pure: the
// same inventory always gives the same bytes (no clock, no randomness, no I/O here).
import { SERVICE_NAMES, type Environment } from '../environment/index.js';
import { renderDatabase } from './database.js';
import { renderLoadBalancer } from './load-balancer.js';
import { renderMonitoring } from './monitoring.js';
import { renderNetwork } from './network.js';
import { renderService } from './service.js';
import { renderStaticSite } from './static-site.js';
import type { RenderedStack } from './lib/stack.js';
import { toYaml } from './lib/template.js';

export type { Input, PlaybookSecret, RenderedStack, StackName } from './lib/stack.js';

/** All stacks, ordered so every stack comes after the stacks whose outputs it takes. */
export function renderStacks(inv: Environment): RenderedStack[] {
  return [
    renderNetwork(inv),
    renderDatabase(inv),
    renderLoadBalancer(inv),
    ...SERVICE_NAMES.map((service) => renderService(inv, service)),
    renderStaticSite(inv),
    renderMonitoring(inv),
  ];
}

export interface RenderedFile {
  stack: RenderedStack;
  /** `<stack>.yaml`, relative to build/cloudformation/<environment>/. */
  file: string;
  body: string;
}

/** The renderer source of a stack, named in each file's header. */
const SOURCE: Record<string, string> = { network: 'network', database: 'database', 'load-balancer': 'load-balancer', 'static-site': 'static-site', monitoring: 'monitoring' };

export function renderEnvironment(inv: Environment): RenderedFile[] {
  return renderStacks(inv).map((stack) => ({
    stack,
    file: `${stack.name}.yaml`,
    body: toYaml(stack.template,
      `${stack.stackName}: rendered by ./playbooks/render.mjs from the ${inv.environment} inventory.\n` +
      `Do not edit: change the ${inv.environment} inventory or cloudformation/${SOURCE[stack.name] ?? 'service'}.ts and render again.`),
  }));
}
