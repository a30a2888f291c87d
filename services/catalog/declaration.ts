// The catalog service as the rest of the house sees it (see services/kit/declaration.ts): products
// and categories, read-heavy, seeded with a deterministic catalogue.
import type { ServiceDeclaration } from '../kit/declaration.js';

export const declaration = {
  name: 'catalog',
  defaultPort: 3002,
  pathPrefix: '/api/catalog',
  secrets: { JWT_VERIFY_SECRET: 'jwt-public' },
  calls: {},
  commands: {
    migrate: { role: 'migrate', task: 'migrations catalog', args: ['up'], reports: { each: /^applied\b/ } },
    seed: { role: 'seed', task: 'seed catalog', reports: { count: /(\d+) product\(s\) inserted/ } },
  },
  smokePath: '/api/catalog/products?limit=1',
  // Public reads the edge may cache for what their Cache-Control allows (routes.ts): product pages,
  // listings (keyed by the query strings ProductListQuery takes) and categories.
  publicReads: [
    { path: '/products/*' },
    { path: '/products', query: ['category', 'q', 'limit', 'cursor'] },
    { path: '/categories' },
  ],
  databasePools: { rawReads: true }, // product pages read through kit/raw-read.ts (service.ts)
} as const satisfies ServiceDeclaration;
