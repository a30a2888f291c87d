// Starts the catalog service: `node dist/services/catalog/main.js` (environment in services/catalog/README.md).
import { runServiceMain } from '../kit/service.js';
import { catalogService } from './service.js';

runServiceMain(catalogService);
