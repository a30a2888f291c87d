// One row per (customer, Idempotency-Key): the request's hash, the order it made once there is
// one, and a lease held by the request working on it (taken over when its holder died).
import type { Migration } from '../../kit/migrate.js';

export const createIdempotencyKeys: Migration = {
  name: '0002-create-idempotency-keys',
  async up({ sequelize }) {
    await sequelize.query(`
      CREATE TABLE idempotency_keys (
        customer_id VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
        idem_key VARCHAR(255) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
        request_hash CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
        owner_token CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
        lease_until DATETIME(3) NOT NULL,
        order_id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NULL,
        created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
        PRIMARY KEY (customer_id, idem_key)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`);
  },
  async down({ sequelize }) {
    await sequelize.query('DROP TABLE idempotency_keys');
  },
};
