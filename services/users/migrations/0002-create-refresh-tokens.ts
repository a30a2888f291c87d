import type { Migration } from '../../kit/migrate.js';

// Refresh tokens, stored as their SHA-256 (hex) only. Each login starts a family; every refresh
// spends one token (used_at) and adds the next of the family. A spent token presented again
// revokes the whole family. No foreign key to users: deleting a user must not wait on this table,
// and refresh checks that the user still exists. A new table only (expand): the release before
// this one never reads it.
export const createRefreshTokens: Migration = {
  name: '0002-create-refresh-tokens',
  async up({ sequelize }) {
    await sequelize.query(`
      CREATE TABLE refresh_tokens (
        id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
        token_hash CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
        family_id CHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
        user_id BIGINT UNSIGNED NOT NULL,
        created_at DATETIME(3) NOT NULL,
        expires_at DATETIME(3) NOT NULL,
        used_at DATETIME(3) NULL,
        revoked_at DATETIME(3) NULL,
        PRIMARY KEY (id),
        UNIQUE KEY refresh_tokens_hash (token_hash),
        KEY refresh_tokens_family (family_id),
        KEY refresh_tokens_user (user_id)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
  },
  async down({ sequelize }) {
    await sequelize.query('DROP TABLE refresh_tokens');
  },
};
