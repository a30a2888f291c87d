// The inventory service (the stock, not the inventory file) as the rest of the house sees it (see
// services/kit/declaration.ts): stock levels and reservations; orders calls it with the service
// credential.
import type { ServiceDeclaration } from '../kit/declaration.js';

export const declaration = {
  name: 'inventory',
  defaultPort: 3003,
  pathPrefix: '/api/inventory',
  secrets: { JWT_VERIFY_SECRET: 'jwt-public', SERVICE_CREDENTIAL_SECRET: 'service-credential' },
  calls: {},
  commands: {
    migrate: { role: 'migrate', task: 'migrations inventory', args: ['up'], reports: { each: /^applied\b/ } },
    seed: { role: 'seed', task: 'seed stock', reports: { count: /(\d+) sku\(s\) stocked/ } },
  },
} as const satisfies ServiceDeclaration;
