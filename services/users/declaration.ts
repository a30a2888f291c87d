// The users service as the rest of the house sees it (see services/kit/declaration.ts): accounts,
// login and token signing.
import type { ServiceDeclaration } from '../kit/declaration.js';

export const declaration = {
  name: 'users',
  defaultPort: 3001,
  pathPrefix: '/api/users',
  secrets: { JWT_VERIFY_SECRET: 'jwt-public', JWT_SIGNING_SECRET: 'jwt', SERVICE_CREDENTIAL_SECRET: 'service-credential', REDIS_AUTH_SECRET: 'redis-auth' },
  calls: {},
  // The throttles' counters (login, registration, refresh), shared by every instance.
  sharedStore: { url: 'REDIS_URL', keyPrefix: 'REDIS_KEY_PREFIX' },
  commands: {
    migrate: { role: 'migrate', task: 'migrations users', args: ['up'], reports: { each: /^applied\b/ } },
    'create-admin': { role: 'admin', task: 'admin account', reports: { unchangedWhen: /unchanged/ } },
  },
} as const satisfies ServiceDeclaration;
