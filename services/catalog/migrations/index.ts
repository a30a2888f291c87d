import type { Migration } from '../../kit/migrate.js';
import { createCategories } from './0001-create-categories.js';
import { createProducts } from './0002-create-products.js';
import { addProductPages } from './0003-product-pages.js';

export const migrations: readonly Migration[] = [createCategories, createProducts, addProductPages];
