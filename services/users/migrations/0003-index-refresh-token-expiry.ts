import type { Migration } from '../../kit/migrate.js';

// The purge of expired refresh tokens (refresh-tokens.ts purgeExpired) deletes by expires_at in
// small batches; without this index each batch would scan the table. An index only (expand): the
// release before this one neither needs nor minds it.
export const indexRefreshTokenExpiry: Migration = {
  name: '0003-index-refresh-token-expiry',
  async up({ sequelize }) {
    await sequelize.query('CREATE INDEX refresh_tokens_expires ON refresh_tokens (expires_at)');
  },
  async down({ sequelize }) {
    await sequelize.query('DROP INDEX refresh_tokens_expires ON refresh_tokens');
  },
};
