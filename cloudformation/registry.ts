// The stack registry: every stack of an environment, registered once with its renderer and the
// renderer's source file (named in each rendered file's header), in the order the stacks are listed
// and written. A per-service stack is registered once and rendered for every declared service. The
// deploy order is not kept here: it follows from the inputs each renderer declares.
import type { Environment, ServiceCatalogue, ServiceDeclaration } from '../environment/index.js';
import { renderDatabase } from './database.js';
import type { RenderedStack } from './lib/stack.js';
import { renderLoadBalancer } from './load-balancer.js';
import { renderMonitoring } from './monitoring.js';
import { renderNetwork } from './network.js';
import { renderService } from './service.js';
import { renderStaticSite } from './static-site.js';

export type StackRegistration =
  | {
      /** The renderer's file, cloudformation/<source>.ts. */
      readonly source: string;
      readonly render: (inv: Environment, services: ServiceCatalogue) => RenderedStack;
    }
  | {
      readonly source: string;
      /** Rendered once per service of the catalogue, as stack service-<name>. */
      readonly renderPerService: (inv: Environment, service: ServiceDeclaration, services: ServiceCatalogue) => RenderedStack;
    };

/** The shop's stacks. */
export const SHOP_STACKS: readonly StackRegistration[] = [
  { source: 'network', render: renderNetwork },
  { source: 'database', render: renderDatabase },
  { source: 'load-balancer', render: renderLoadBalancer },
  { source: 'service', renderPerService: renderService },
  { source: 'static-site', render: renderStaticSite },
  { source: 'monitoring', render: renderMonitoring },
];

/** A stack as rendered, with the registration that rendered it. */
export interface RegisteredStack {
  stack: RenderedStack;
  source: string;
}

export function renderRegistered(inv: Environment, services: ServiceCatalogue, stacks: readonly StackRegistration[]): RegisteredStack[] {
  return stacks.flatMap((r) =>
    'render' in r
      ? [{ stack: r.render(inv, services), source: r.source }]
      : services.map((d) => ({ stack: r.renderPerService(inv, d, services), source: r.source })),
  );
}
