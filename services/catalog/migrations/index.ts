import type { Migration } from '../../kit/migrate.js';
import { createCategories } from './0001-create-categories.js';
import { createProducts } from './0002-create-products.js';

export const migrations: readonly Migration[] = [createCategories, createProducts];
