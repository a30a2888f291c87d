import type { Migration } from '../../kit/migrate.js';
import { createUsers } from './0001-create-users.js';

export const migrations: readonly Migration[] = [createUsers];
