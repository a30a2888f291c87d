import type { Migration } from '../../kit/migrate.js';
import { createUsers } from './0001-create-users.js';
import { createRefreshTokens } from './0002-create-refresh-tokens.js';
import { indexRefreshTokenExpiry } from './0003-index-refresh-token-expiry.js';

export const migrations: readonly Migration[] = [createUsers, createRefreshTokens, indexRefreshTokenExpiry];
