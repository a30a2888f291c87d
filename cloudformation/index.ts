// Every stack of one environment, in registration order, and their YAML. Renderers are pure: the
// same inventory always gives the same bytes (no clock, no randomness, no I/O here).
import { SHOP_SERVICES, type Environment, type ServiceCatalogue } from '../environment/index.js';
import type { RenderedStack } from './lib/stack.js';
import { toYaml } from './lib/template.js';
import { renderRegistered, SHOP_STACKS, type StackRegistration } from './registry.js';

export type { Input, RenderedStack } from './lib/stack.js';
export { SHOP_STACKS, type StackRegistration } from './registry.js';

export interface RenderOptions {
  /** The services to render for; the shop's by default. */
  services?: ServiceCatalogue;
  /** The stacks to render; the shop's by default. */
  stacks?: readonly StackRegistration[];
}

/** All stacks, in registration order. */
export function renderStacks(inv: Environment, opts: RenderOptions = {}): RenderedStack[] {
  return renderRegistered(inv, opts.services ?? SHOP_SERVICES, opts.stacks ?? SHOP_STACKS).map((r) => r.stack);
}

export interface RenderedFile {
  stack: RenderedStack;
  /** `<stack>.yaml`, relative to build/cloudformation/<environment>/. */
  file: string;
  body: string;
}

export function renderEnvironment(inv: Environment, opts: RenderOptions = {}): RenderedFile[] {
  return renderRegistered(inv, opts.services ?? SHOP_SERVICES, opts.stacks ?? SHOP_STACKS).map(({ stack, source }) => ({
    stack,
    file: `${stack.name}.yaml`,
    body: toYaml(stack.template,
      `${stack.stackName}: rendered by ./playbooks/render.mjs from the ${inv.environment} inventory.\n` +
      `Do not edit: change the ${inv.environment} inventory or cloudformation/${source}.ts and render again.`),
  }));
}
