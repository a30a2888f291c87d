// The stack registry: every stack of an environment, registered once with its renderer and the
// renderer's source file (named in each rendered file's header), in the order stacks are listed
// and written. A per-service stack is registered once and rendered for every declared service.
// The deploy order is not kept here: it follows from the inputs each renderer declares
// (lib/deploy-order.ts). Renderers are pure: the same inventory and the same `now` always give the
// same bytes (no clock of their own, no randomness, no I/O).
import { SHOP_SERVICES, type Environment, type ServiceCatalogue, type ServiceDeclaration } from '../environment/index.js';
import { renderBootstrap } from './bootstrap.js';
import { renderCache } from './cache.js';
import { renderDatabase } from './database.js';
import type { RenderedStack } from './lib/stack.js';
import { toYaml } from './lib/template.js';
import { renderLoadBalancer } from './load-balancer.js';
import { renderLoadgen } from './loadgen.js';
import { renderMonitoring } from './monitoring.js';
import { renderNetwork } from './network.js';
import { renderService } from './service.js';
import { renderStaticSite } from './static-site.js';

export type StackRegistration =
  | {
      /** The renderer's file, cloudformation/<source>.ts. */
      readonly source: string;
      readonly render: (inv: Environment, services: ServiceCatalogue, context: RenderContext) => RenderedStack;
    }
  | {
      readonly source: string;
      /** Rendered once per service of the catalogue. */
      readonly renderPerService: (inv: Environment, service: ServiceDeclaration, services: ServiceCatalogue, context: RenderContext) => RenderedStack;
    };

/**
 * The shop's stacks, and loadgen: where a rehearsal's load generators run (deployed with the shop,
 * idle it costs nothing; cloudformation/README.md, "The loadgen stack").
 */
export const SHOP_STACKS: readonly StackRegistration[] = [
  { source: 'network', render: renderNetwork },
  { source: 'database', render: renderDatabase },
  { source: 'cache', render: renderCache },
  { source: 'bootstrap', render: renderBootstrap },
  { source: 'load-balancer', render: renderLoadBalancer },
  { source: 'service', renderPerService: renderService },
  { source: 'static-site', render: renderStaticSite },
  { source: 'monitoring', render: renderMonitoring },
  { source: 'loadgen', render: renderLoadgen },
];

/** What a renderer takes besides the inventory: the time, given by the caller (renderers read no clock). */
export interface RenderContext {
  /**
   * The time the templates are for: sale events over by then are left out, one under way keeps
   * only what can still happen (see service.ts). Undefined renders every event as written (the
   * play and the golden test always pass one).
   */
  now?: Date | undefined;
}

export interface RenderOptions extends RenderContext {
  /** The services to render for; the shop's by default. */
  services?: ServiceCatalogue | undefined;
  /** The stacks to render; the shop's by default. */
  stacks?: readonly StackRegistration[] | undefined;
}

export interface RenderedFile {
  stack: RenderedStack;
  /** `<stack>.yaml`, relative to build/cloudformation/<environment>/. */
  file: string;
  body: string;
}

/** Every stack, in registration order. */
export function renderStacks(inv: Environment, opts: RenderOptions = {}): RenderedStack[] {
  return renderRegistered(inv, opts).map((r) => r.stack);
}

/** Every stack and its YAML file, in registration order. */
export function renderEnvironment(inv: Environment, opts: RenderOptions = {}): RenderedFile[] {
  return renderRegistered(inv, opts).map(({ stack, source }) => ({
    stack,
    file: `${stack.name}.yaml`,
    body: toYaml(stack.template,
      `${stack.stackName}: rendered by ./playbooks/render.mjs from the ${inv.environment} inventory.\n` +
      `Do not edit: change the ${inv.environment} inventory or cloudformation/${source}.ts and render again.`),
  }));
}

function renderRegistered(inv: Environment, opts: RenderOptions): Array<{ stack: RenderedStack; source: string }> {
  const services = opts.services ?? SHOP_SERVICES;
  const context: RenderContext = { now: opts.now };
  return (opts.stacks ?? SHOP_STACKS).flatMap((r) =>
    'render' in r
      ? [{ stack: r.render(inv, services, context), source: r.source }]
      : services.map((d) => ({ stack: r.renderPerService(inv, d, services, context), source: r.source })),
  );
}
