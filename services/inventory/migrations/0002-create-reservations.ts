// Reservations and their lines. HELD holds units in stock.reserved until COMMITTED (the units
// leave on_hand), RELEASED or EXPIRED (the units are free again). The (status, expires_at) index
// is the sweeper's way to the expired ones; the sku index serves the reserved-units accounting.
import type { Migration } from '../../kit/migrate.js';

export const createReservations: Migration = {
  name: '0002-create-reservations',
  async up({ sequelize }) {
    await sequelize.query(`
      CREATE TABLE reservations (
        id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
        status ENUM('HELD', 'COMMITTED', 'RELEASED', 'EXPIRED') NOT NULL,
        expires_at DATETIME(3) NOT NULL,
        created_at DATETIME(3) NOT NULL,
        settled_at DATETIME(3) NULL,
        PRIMARY KEY (id),
        KEY reservations_status_expiry (status, expires_at)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`);
    await sequelize.query(`
      CREATE TABLE reservation_items (
        reservation_id CHAR(36) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
        sku VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
        qty INT NOT NULL,
        PRIMARY KEY (reservation_id, sku),
        KEY reservation_items_sku (sku),
        CONSTRAINT reservation_items_reservation FOREIGN KEY (reservation_id) REFERENCES reservations (id),
        CONSTRAINT reservation_items_qty_positive CHECK (qty > 0)
      ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`);
  },
  async down({ sequelize }) {
    await sequelize.query('DROP TABLE reservation_items');
    await sequelize.query('DROP TABLE reservations');
  },
};
