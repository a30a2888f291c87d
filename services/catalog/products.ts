// Where products live. The product page's read (one row by primary key) is the sale-day hot path:
// one prepared statement on the kit's raw mysql2 read pools that answers the stored page
// (product-page.ts), skipping Sequelize's model layer and per-field casting. Everything else goes
// through Sequelize: listings as plain SELECTs, writes through the models in a transaction that
// also refreshes the stored page.
import { ForeignKeyConstraintError, QueryTypes, UniqueConstraintError, type Transaction } from 'sequelize';
import type { Database } from '../kit/db.js';
import type { RawReader } from '../kit/raw-read.js';
import { ApiError, conflict, notFound } from '../kit/errors.js';
import { matchHits } from './conditional.js';
import { defineCatalogModels, type CatalogModels, type ProductInstance } from './models.js';
import { renderProduct, toProduct, type Product, type ProductRow } from './product.js';
import { SELECT_PAGE_BY_SKU, pageOf, refreshPages, type PageRow, type ProductPage } from './product-page.js';

const COLUMNS = `sku, name, description, price_cents AS priceCents, currency, category, image_path AS imagePath, active,
  CONCAT(LEFT(DATE_FORMAT(updated_at, '%Y-%m-%dT%H:%i:%s.%f'), 23), 'Z') AS updatedAt`;
/** The plain statement for one product by sku (the benchmark's baselines run this one). */
export const SELECT_PRODUCT_BY_SKU = `SELECT ${COLUMNS} FROM products WHERE sku = ?`;

export interface NewProduct {
  sku: string;
  name: string;
  description?: string | undefined;
  priceCents: number;
  currency: string;
  category: string;
  imagePath: string;
  active?: boolean | undefined;
}

export type ProductPatch = Partial<Omit<NewProduct, 'sku'>>;

export interface ListQuery {
  category?: string | undefined;
  q?: string | undefined;
  afterSku?: string | undefined;
  limit: number;
}

export interface Category {
  slug: string;
  name: string;
}

const escapeLike = (s: string): string => s.replace(/[\\%_]/g, (c) => `\\${c}`);

export class ProductStore {
  private readonly models: CatalogModels;

  constructor(
    private readonly db: Database,
    private readonly reader: RawReader,
  ) {
    this.models = defineCatalogModels(db.sequelize);
  }

  /**
   * One product page by sku: one prepared statement on the raw read pools (retries, rotation and
   * the 503 mapping are theirs), answered from the stored page while it is current.
   */
  findPage(sku: string): Promise<ProductPage | undefined> {
    return this.reader.rows<PageRow>(SELECT_PAGE_BY_SKU, [sku]).then((rows) => rows[0] && pageOf(rows[0]));
  }

  /** Active products in sku order, after `afterSku`; `q` matches names, case-insensitively. */
  async list(query: ListQuery): Promise<Product[]> {
    const where = ['active = 1'];
    const values: unknown[] = [];
    if (query.category !== undefined) {
      where.push('category = ?');
      values.push(query.category);
    }
    if (query.q !== undefined) {
      where.push(`name LIKE ?`);
      values.push(`%${escapeLike(query.q)}%`);
    }
    if (query.afterSku !== undefined) {
      where.push('sku > ?');
      values.push(query.afterSku);
    }
    values.push(query.limit);
    const rows = await this.db.sequelize.query<ProductRow>(`SELECT ${COLUMNS} FROM products WHERE ${where.join(' AND ')} ORDER BY sku LIMIT ?`, {
      replacements: values,
      type: QueryTypes.SELECT,
    });
    return rows.map(toProduct);
  }

  async create(input: NewProduct): Promise<Product> {
    try {
      const created = await this.db.transaction(async (transaction) => {
        const row = await this.models.Product.create(
          { ...input, description: input.description ?? '', active: input.active ?? true },
          { transaction },
        );
        await refreshPages(this.db.sequelize, { skus: [row.sku], transaction });
        return row;
      });
      return fromModel(created);
    } catch (err) {
      if (err instanceof UniqueConstraintError) throw conflict('PRODUCT_EXISTS', `a product with sku ${input.sku} already exists`);
      if (err instanceof ForeignKeyConstraintError) throw unknownCategory(input.category);
      throw err;
    }
  }

  /**
   * Applies `patch` (an empty change leaves updatedAt alone). With `ifMatch`, the product's current
   * ETag must be among them (412 otherwise), so two admins cannot overwrite each other blindly.
   */
  async update(sku: string, patch: ProductPatch, ifMatch?: string): Promise<Product> {
    try {
      const updated = await this.db.transaction(async (transaction) => {
        const row = await this.lockedProduct(sku, transaction);
        if (ifMatch !== undefined && !matchHits(ifMatch, renderProduct(fromModel(row)).etag)) {
          throw new ApiError(412, 'PRECONDITION_FAILED', 'the product changed since you read it: fetch it again and retry');
        }
        row.set(definedOnly(patch));
        if (!row.changed()) return row;
        const saved = await row.save({ transaction });
        await refreshPages(this.db.sequelize, { skus: [sku], transaction });
        return saved;
      });
      return fromModel(updated);
    } catch (err) {
      if (err instanceof ForeignKeyConstraintError && patch.category !== undefined) throw unknownCategory(patch.category);
      throw err;
    }
  }

  async categories(): Promise<Category[]> {
    return this.db.sequelize.query<Category>('SELECT slug, name FROM categories ORDER BY slug', { type: QueryTypes.SELECT });
  }

  async createCategory(input: Category): Promise<Category> {
    try {
      const created = await this.db.transaction((transaction) => this.models.Category.create(input, { transaction }));
      return { slug: created.slug, name: created.name };
    } catch (err) {
      if (err instanceof UniqueConstraintError) throw conflict('CATEGORY_EXISTS', `a category with slug ${input.slug} already exists`);
      throw err;
    }
  }

  private async lockedProduct(sku: string, transaction: Transaction): Promise<ProductInstance> {
    const row = await this.models.Product.findByPk(sku, { transaction, lock: transaction.LOCK.UPDATE });
    if (!row) throw notFound(`no product with sku ${sku}`);
    return row;
  }
}

function fromModel(row: ProductInstance): Product {
  return toProduct({
    sku: row.sku,
    name: row.name,
    description: row.description,
    priceCents: row.priceCents,
    currency: row.currency,
    category: row.category,
    imagePath: row.imagePath,
    active: row.active,
    updatedAt: row.updatedAt,
  });
}

function definedOnly<T extends object>(patch: T): Partial<T> {
  return Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function unknownCategory(slug: string): ApiError {
  return new ApiError(400, 'UNKNOWN_CATEGORY', `category ${slug} does not exist: create it first (POST /api/catalog/categories)`, { field: 'category' });
}
