// Request shapes of the catalog API (TypeBox): what an admin may write and what a listing may ask.
import { FormatRegistry, Type } from '@sinclair/typebox';
import { MultilineText, Text, validator } from '../kit/validation.js';

export const SKU_PATTERN = '^[A-Z0-9][A-Z0-9_-]{0,31}$';
export const SLUG_PATTERN = '^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$';
/** A static asset path under the site root: no scheme, no `..`, no query. */
export const IMAGE_PATH_PATTERN = '^/(?:[A-Za-z0-9_~-][A-Za-z0-9._~-]*/)*[A-Za-z0-9_~-][A-Za-z0-9._~-]*$';
export const MAX_PRICE_CENTS = 100_000_000;
export const MAX_LIMIT = 100;
export const DEFAULT_LIMIT = 20;

const skuRegex = new RegExp(SKU_PATTERN);
export const isSku = (value: string): boolean => skuRegex.test(value);

// ISO 4217 codes as the runtime's Intl knows them (no hand-kept list).
const CURRENCIES = new Set(Intl.supportedValuesOf('currency'));
if (!FormatRegistry.Has('iso4217')) FormatRegistry.Set('iso4217', (v) => CURRENCIES.has(v));

const fields = {
  name: Text({ maxLength: 200 }),
  description: MultilineText({ maxLength: 5000 }),
  priceCents: Type.Integer({ minimum: 0, maximum: MAX_PRICE_CENTS }),
  currency: Type.String({ format: 'iso4217', maxLength: 3 }),
  category: Type.String({ pattern: SLUG_PATTERN, maxLength: 64 }),
  imagePath: Type.String({ pattern: IMAGE_PATH_PATTERN, maxLength: 255 }),
  active: Type.Boolean(),
};

export const ProductCreate = validator(
  Type.Object(
    {
      sku: Type.String({ pattern: SKU_PATTERN, maxLength: 32 }),
      name: fields.name,
      description: Type.Optional(fields.description),
      priceCents: fields.priceCents,
      currency: fields.currency,
      category: fields.category,
      imagePath: fields.imagePath,
      active: Type.Optional(fields.active),
    },
    { additionalProperties: false },
  ),
);

export const ProductUpdate = validator(
  Type.Object(
    {
      name: Type.Optional(fields.name),
      description: Type.Optional(fields.description),
      priceCents: Type.Optional(fields.priceCents),
      currency: Type.Optional(fields.currency),
      category: Type.Optional(fields.category),
      imagePath: Type.Optional(fields.imagePath),
      active: Type.Optional(fields.active),
    },
    { additionalProperties: false, minProperties: 1 },
  ),
);

export const CategoryCreate = validator(
  Type.Object({ slug: Type.String({ pattern: SLUG_PATTERN, maxLength: 64 }), name: Text({ maxLength: 100 }) }, { additionalProperties: false }),
);

export const ProductListQuery = validator(
  Type.Object(
    {
      category: Type.Optional(Type.String({ pattern: SLUG_PATTERN, maxLength: 64 })),
      q: Type.Optional(Text({ maxLength: 100 })),
      limit: Type.Optional(Type.String({ pattern: '^[0-9]{1,6}$' })),
      cursor: Type.Optional(Type.String({ maxLength: 512 })),
    },
    { additionalProperties: false },
  ),
);

/** For endpoints that take no body: nothing, or an empty JSON object. */
export const NoBody = validator(Type.Object({}, { additionalProperties: false }));
