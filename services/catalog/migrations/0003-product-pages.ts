import type { Migration } from '../../kit/migrate.js';
import { refreshPages } from '../product-page.js';

// The stored product page (see product-page.ts): the bytes the product page answers, their ETag,
// and the columns they were rendered from. Existing rows get their page here; a row
// without one is still served, rendered from its columns.
export const addProductPages: Migration = {
  name: '0003-product-pages',
  async up({ sequelize }) {
    await sequelize.query(`
      ALTER TABLE products
        ADD COLUMN page MEDIUMBLOB NULL,
        ADD COLUMN etag VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NULL,
        ADD COLUMN page_src MEDIUMBLOB NULL`);
    await refreshPages(sequelize);
  },
  async down({ sequelize }) {
    await sequelize.query('ALTER TABLE products DROP COLUMN page, DROP COLUMN etag, DROP COLUMN page_src');
  },
};
