// Sequelize models for the catalog's writes (admin create/update/deactivate, categories). Reads of
// single products take the raw path in products.ts; listings use plain SELECTs.
import { DataTypes, type CreationOptional, type InferAttributes, type InferCreationAttributes, type Model, type ModelStatic, type Sequelize } from 'sequelize';

export interface CategoryInstance extends Model<InferAttributes<CategoryInstance>, InferCreationAttributes<CategoryInstance>> {
  slug: string;
  name: string;
  createdAt: CreationOptional<Date>;
  updatedAt: CreationOptional<Date>;
}

export interface ProductInstance extends Model<InferAttributes<ProductInstance>, InferCreationAttributes<ProductInstance>> {
  sku: string;
  name: string;
  description: string;
  priceCents: number;
  currency: string;
  category: string;
  imagePath: string;
  active: boolean;
  createdAt: CreationOptional<Date>;
  updatedAt: CreationOptional<Date>;
}

export interface CatalogModels {
  Category: ModelStatic<CategoryInstance>;
  Product: ModelStatic<ProductInstance>;
}

export function defineCatalogModels(sequelize: Sequelize): CatalogModels {
  const timestamps = {
    createdAt: { type: DataTypes.DATE(3), allowNull: false },
    updatedAt: { type: DataTypes.DATE(3), allowNull: false },
  };
  const Category = sequelize.define<CategoryInstance>(
    'categories',
    {
      slug: { type: DataTypes.STRING(64), primaryKey: true },
      name: { type: DataTypes.STRING(100), allowNull: false },
      ...timestamps,
    },
    { tableName: 'categories' },
  );
  const Product = sequelize.define<ProductInstance>(
    'products',
    {
      sku: { type: DataTypes.STRING(32), primaryKey: true },
      name: { type: DataTypes.STRING(200), allowNull: false },
      description: { type: DataTypes.TEXT, allowNull: false, defaultValue: '' },
      priceCents: { type: DataTypes.INTEGER.UNSIGNED, allowNull: false },
      currency: { type: DataTypes.CHAR(3), allowNull: false },
      category: { type: DataTypes.STRING(64), allowNull: false },
      imagePath: { type: DataTypes.STRING(255), allowNull: false },
      active: { type: DataTypes.BOOLEAN, allowNull: false, defaultValue: true },
      ...timestamps,
    },
    { tableName: 'products' },
  );
  return { Category, Product };
}
