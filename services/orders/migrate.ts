// `node dist/services/orders/migrate.js [up|down [steps]|status]` against DB_SECRET's database.
import { runMigrateMain } from '../kit/service.js';
import { ordersService } from './service.js';

await runMigrateMain(ordersService);
