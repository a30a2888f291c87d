// One row per change of on_hand: who (a user, the seed, or a reservation being sold or returned),
// when, by how much, why, and what on_hand became. SUM(delta) per sku equals on_hand.
import type { Migration } from '../../kit/migrate.js';

export const createStockAudit: Migration = {
  name: '0003-create-stock-audit',
  async up({ sequelize }) {
    await sequelize.query(`
      CREATE TABLE stock_audit (
        id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
        sku VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
        delta INT NOT NULL,
        on_hand_after INT NOT NULL,
        reason VARCHAR(200) NOT NULL,
        actor VARCHAR(100) NOT NULL,
        reservation_id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NULL,
        created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
        PRIMARY KEY (id),
        KEY stock_audit_sku (sku, id)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`);
  },
  async down({ sequelize }) {
    await sequelize.query('DROP TABLE stock_audit');
  },
};
