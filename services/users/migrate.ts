// `node dist/services/users/migrate.js [up|down [steps]|status]` against DB_SECRET's database.
import { runMigrateMain } from '../kit/service.js';
import { usersService } from './service.js';

await runMigrateMain(usersService);
