import type { Migration } from '../../kit/migrate.js';
import { createUsers } from './0001-create-users.js';
import { createRefreshTokens } from './0002-create-refresh-tokens.js';

export const migrations: readonly Migration[] = [createUsers, createRefreshTokens];
