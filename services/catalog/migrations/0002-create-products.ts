import type { Migration } from '../../kit/migrate.js';

// The sku is the primary key: the product page reads one row by it, and keyset pagination walks
// it in order. Names use a case-insensitive collation so `q` search ignores case.
export const createProducts: Migration = {
  name: '0002-create-products',
  async up({ sequelize }) {
    await sequelize.query(`
      CREATE TABLE products (
        sku VARCHAR(32) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
        name VARCHAR(200) NOT NULL,
        description TEXT NOT NULL,
        price_cents INT UNSIGNED NOT NULL,
        currency CHAR(3) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
        category VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
        image_path VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
        active TINYINT(1) NOT NULL DEFAULT 1,
        created_at DATETIME(3) NOT NULL,
        updated_at DATETIME(3) NOT NULL,
        PRIMARY KEY (sku),
        KEY products_active_sku (active, sku),
        KEY products_category_active_sku (category, active, sku),
        CONSTRAINT products_category_fk FOREIGN KEY (category) REFERENCES categories (slug)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci`);
  },
  async down({ sequelize }) {
    await sequelize.query('DROP TABLE products');
  },
};
