import type { Migration } from '../../kit/migrate.js';

// email keeps what the user typed; email_key (lower-cased, NFC) is what is unique and looked up,
// with a binary collation so uniqueness does not depend on the server's default collation.
export const createUsers: Migration = {
  name: '0001-create-users',
  async up({ sequelize }) {
    await sequelize.query(`
      CREATE TABLE users (
        id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
        email VARCHAR(254) NOT NULL,
        email_key VARCHAR(254) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
        name VARCHAR(100) NOT NULL,
        role ENUM('customer', 'admin') NOT NULL DEFAULT 'customer',
        password_hash VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
        created_at DATETIME(3) NOT NULL,
        updated_at DATETIME(3) NOT NULL,
        PRIMARY KEY (id),
        UNIQUE KEY users_email_key (email_key)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
  },
  async down({ sequelize }) {
    await sequelize.query('DROP TABLE users');
  },
};
