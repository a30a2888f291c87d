// The deterministic seed catalog: product n is always the same (faker seeded with n), so any part
// can generate the same skus and products without reading the database. Inventory's seed stocks
// exactly these skus.
import { faker } from '@faker-js/faker/locale/en';

export const DEFAULT_SEED_COUNT = 10_000;
export const SEED_CURRENCY = 'EUR';

export const SEED_CATEGORIES: ReadonlyArray<{ slug: string; name: string }> = [
  { slug: 'audio', name: 'Audio' },
  { slug: 'books', name: 'Books' },
  { slug: 'cameras', name: 'Cameras' },
  { slug: 'clothing', name: 'Clothing' },
  { slug: 'computers', name: 'Computers' },
  { slug: 'garden', name: 'Garden' },
  { slug: 'grocery', name: 'Grocery' },
  { slug: 'health', name: 'Health' },
  { slug: 'home', name: 'Home' },
  { slug: 'jewelry', name: 'Jewelry' },
  { slug: 'kitchen', name: 'Kitchen' },
  { slug: 'outdoors', name: 'Outdoors' },
  { slug: 'phones', name: 'Phones' },
  { slug: 'shoes', name: 'Shoes' },
  { slug: 'sports', name: 'Sports' },
  { slug: 'tools', name: 'Tools' },
  { slug: 'toys', name: 'Toys' },
  { slug: 'video-games', name: 'Video games' },
];

export interface SeedProduct {
  sku: string;
  name: string;
  description: string;
  priceCents: number;
  currency: string;
  category: string;
  imagePath: string;
  active: boolean;
}

/** `SKU-000001` for n = 1. */
export function skuFor(n: number): string {
  if (!Number.isInteger(n) || n < 1 || n > 999_999) throw new RangeError(`seed product numbers run from 1 to 999999, got ${n}`);
  return `SKU-${String(n).padStart(6, '0')}`;
}

export function seedProduct(n: number): SeedProduct {
  const sku = skuFor(n);
  faker.seed(n);
  const category = faker.helpers.arrayElement(SEED_CATEGORIES).slug;
  // Shop prices: whole euros minus a cent, most under 100, a few up to 2,000.
  const euros = faker.datatype.boolean({ probability: 0.85 }) ? faker.number.int({ min: 2, max: 100 }) : faker.number.int({ min: 100, max: 2000 });
  return {
    sku,
    name: faker.commerce.productName(),
    description: faker.commerce.productDescription(),
    priceCents: euros * 100 - 1,
    currency: SEED_CURRENCY,
    category,
    imagePath: `/images/products/${sku.toLowerCase()}.jpg`,
    active: true,
  };
}

/** Products 1 … count, in sku order. */
export function* seedProducts(count: number = DEFAULT_SEED_COUNT): Generator<SeedProduct> {
  for (let n = 1; n <= count; n++) yield seedProduct(n);
}
