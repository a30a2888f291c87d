// Stock per sku. available = on_hand - reserved; the CHECK is the last guard behind the
// conditional updates (MySQL 8.0.16+ and MariaDB 10.2+ both enforce it).
import type { Migration } from '../../kit/migrate.js';

export const createStock: Migration = {
  name: '0001-create-stock',
  async up({ sequelize }) {
    await sequelize.query(`
      CREATE TABLE stock (
        sku VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
        on_hand INT NOT NULL DEFAULT 0,
        reserved INT NOT NULL DEFAULT 0,
        updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
        PRIMARY KEY (sku),
        CONSTRAINT stock_counts_valid CHECK (reserved >= 0 AND on_hand >= reserved)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`);
  },
  async down({ sequelize }) {
    await sequelize.query('DROP TABLE stock');
  },
};
