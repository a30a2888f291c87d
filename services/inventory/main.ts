// Starts the inventory service: `node dist/services/inventory/main.js` (environment in services/inventory/README.md).
import { runServiceMain } from '../kit/service.js';
import { inventoryService } from './service.js';

runServiceMain(inventoryService);
