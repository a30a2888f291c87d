// `node dist/services/inventory/migrate.js [up|down [steps]|status]` against DB_SECRET's database.
import { runMigrateMain } from '../kit/service.js';
import { inventoryService } from './service.js';

await runMigrateMain(inventoryService);
