// The orders service as the rest of the house sees it (see services/kit/declaration.ts): checkout,
// which prices carts through catalog, reserves stock through inventory and asks users whether a
// token's account still exists.
import type { ServiceDeclaration } from '../kit/declaration.js';

export const declaration = {
  name: 'orders',
  defaultPort: 3004,
  pathPrefix: '/api/orders',
  secrets: { JWT_VERIFY_SECRET: 'jwt-public', SERVICE_CREDENTIAL_SECRET: 'service-credential' },
  calls: { CATALOG_URL: 'catalog', INVENTORY_URL: 'inventory', USERS_URL: 'users' },
  commands: {
    migrate: { role: 'migrate', task: 'migrations orders', args: ['up'], reports: { each: /^applied\b/ } },
  },
} as const satisfies ServiceDeclaration;
