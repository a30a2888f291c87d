// Starts the catalog service: `node dist/services/catalog/main.js` (environment in README.md).
import { runServiceMain } from '../kit/service.js';
import { catalogService } from './service.js';

runServiceMain(catalogService);
