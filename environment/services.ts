// The service registry: the shop's services as each declares itself (services/<name>/declaration.ts),
// in the order every list of services follows (inventory schema, load balancer rules, stacks, the
// local fleet). A catalogue is a plain list, passed to the inventory loader, the renderers and the
// local fleet builder, with the shop's as the default: a test or a new service composes its own;
// nothing is registered globally.
import type { ServiceDeclaration } from '../services/kit/declaration.js';
import { declaration as catalog } from '../services/catalog/declaration.js';
import { declaration as inventory } from '../services/inventory/declaration.js';
import { declaration as orders } from '../services/orders/declaration.js';
import { declaration as users } from '../services/users/declaration.js';

export type { ChangeReport, OperatorCommand, ServiceDeclaration, SharedSecretName } from '../services/kit/declaration.js';
export { DEFAULT_DB_POOL_MAX, programPath } from '../services/kit/declaration.js';

/** A list of service declarations, names unique, in deployment and routing order. */
export type ServiceCatalogue = readonly ServiceDeclaration[];

/** The shop: users, catalog, inventory, orders. */
export const SHOP_SERVICES = [users, catalog, inventory, orders] as const satisfies ServiceCatalogue;

export type ServiceName = (typeof SHOP_SERVICES)[number]['name'];
export const SERVICE_NAMES: readonly ServiceName[] = SHOP_SERVICES.map((d) => d.name);

/** The declaration of `name` in a catalogue; a name it does not hold is a programming error. */
export function declarationOf(services: ServiceCatalogue, name: string): ServiceDeclaration {
  const found = services.find((d) => d.name === name);
  if (!found) throw new Error(`no service ${name} in the catalogue (services: ${services.map((d) => d.name).join(', ')})`);
  return found;
}

/** Environment variables the deploy wires for some service: secret references, service URLs, the cache's URL. */
export function wiredVariables(services: ServiceCatalogue): string[] {
  return [...new Set(services.flatMap((d) => [...Object.keys(d.secrets), ...Object.keys(d.calls), ...(d.sharedStore ? [d.sharedStore.url, d.sharedStore.keyPrefix] : [])]))];
}
