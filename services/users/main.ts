// Starts the users service: `node dist/services/users/main.js` (environment in services/users/README.md).
import { runServiceMain } from '../kit/service.js';
import { usersService } from './service.js';

runServiceMain(usersService);
