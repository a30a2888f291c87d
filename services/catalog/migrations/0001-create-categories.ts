import type { Migration } from '../../kit/migrate.js';

// Slugs are ASCII so they sort and compare byte-wise on MySQL 8 and MariaDB alike.
export const createCategories: Migration = {
  name: '0001-create-categories',
  async up({ sequelize }) {
    await sequelize.query(`
      CREATE TABLE categories (
        slug VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
        name VARCHAR(100) NOT NULL,
        created_at DATETIME(3) NOT NULL,
        updated_at DATETIME(3) NOT NULL,
        PRIMARY KEY (slug)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
  },
  async down({ sequelize }) {
    await sequelize.query('DROP TABLE categories');
  },
};
