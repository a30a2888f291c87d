// Orders and their lines, priced from the catalog at order time. `seq` orders a customer's list
// (keyset pagination); the public id is random, so ids say nothing about other customers' orders.
import type { Migration } from '../../kit/migrate.js';

export const createOrders: Migration = {
  name: '0001-create-orders',
  async up({ sequelize }) {
    await sequelize.query(`
      CREATE TABLE orders (
        seq BIGINT UNSIGNED NOT NULL AUTO_INCREMENT,
        id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
        customer_id VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
        status ENUM('PENDING', 'CONFIRMED', 'CANCELLED', 'FULFILLED') NOT NULL,
        currency CHAR(3) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
        total_cents BIGINT NOT NULL,
        reservation_id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
        reservation_expires_at DATETIME(3) NOT NULL,
        cancel_reason VARCHAR(200) NULL,
        created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
        updated_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3) ON UPDATE CURRENT_TIMESTAMP(3),
        confirmed_at DATETIME(3) NULL,
        cancelled_at DATETIME(3) NULL,
        PRIMARY KEY (seq),
        UNIQUE KEY orders_id (id),
        KEY orders_customer (customer_id, seq),
        KEY orders_status_expiry (status, reservation_expires_at)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`);
    await sequelize.query(`
      CREATE TABLE order_lines (
        order_id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
        line_no SMALLINT NOT NULL,
        sku VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
        name VARCHAR(200) NOT NULL,
        qty INT NOT NULL,
        unit_price_cents INT NOT NULL,
        line_total_cents BIGINT NOT NULL,
        PRIMARY KEY (order_id, line_no),
        CONSTRAINT order_lines_order FOREIGN KEY (order_id) REFERENCES orders (id)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`);
  },
  async down({ sequelize }) {
    await sequelize.query('DROP TABLE order_lines');
    await sequelize.query('DROP TABLE orders');
  },
};
