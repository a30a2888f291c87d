// Starts the orders service: `node dist/services/orders/main.js` (environment in services/orders/README.md).
import { runServiceMain } from '../kit/service.js';
import { ordersService } from './service.js';

runServiceMain(ordersService);
