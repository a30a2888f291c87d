// `node dist/services/catalog/migrate.js [up|down [steps]|status]` against DB_SECRET's database.
import { runMigrateMain } from '../kit/service.js';
import { catalogService } from './service.js';

await runMigrateMain(catalogService);
