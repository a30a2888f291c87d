// Prices at order time, read from the catalog (GET /api/catalog/products/:sku, public, cached
// there). A line whose product is unknown, inactive or malformed refuses the whole order.
import { ApiError } from '../kit/errors.js';
import type { ServiceClient } from '../kit/service-client.js';
import type { BasketLine } from './schemas.js';

export interface PricedLine extends BasketLine {
  name: string;
  unitPriceCents: number;
  lineTotalCents: number;
}

export interface PricedBasket {
  currency: string;
  totalCents: number;
  lines: PricedLine[];
}

interface Product {
  sku: string;
  name: string;
  priceCents: number;
  currency: string;
  active: boolean;
}

function isProduct(body: unknown, sku: string): body is Product {
  const p = body as Partial<Product> | undefined;
  return (
    typeof p === 'object' && p !== null && p.sku === sku && typeof p.name === 'string' && Number.isSafeInteger(p.priceCents) && (p.priceCents ?? -1) >= 0 &&
    typeof p.currency === 'string' && /^[A-Z]{3}$/.test(p.currency) && typeof p.active === 'boolean'
  );
}

export class CatalogPrices {
  constructor(private readonly catalog: ServiceClient) {}

  async price(lines: readonly BasketLine[]): Promise<PricedBasket> {
    const answers = await Promise.all(lines.map((l) => this.catalog.get(`/api/catalog/products/${encodeURIComponent(l.sku)}`)));
    const unknown: string[] = [];
    const unavailable: string[] = [];
    const priced: PricedLine[] = [];
    const currencies = new Set<string>();
    answers.forEach((res, i) => {
      const line = lines[i]!;
      if (res.status === 404) return void unknown.push(line.sku);
      if (res.status !== 200 || !isProduct(res.body, line.sku)) {
        throw new ApiError(502, 'UPSTREAM_FAILED', `the catalog gave an unexpected answer for ${line.sku}`);
      }
      if (!res.body.active) return void unavailable.push(line.sku);
      currencies.add(res.body.currency);
      priced.push({ ...line, name: res.body.name.slice(0, 200), unitPriceCents: res.body.priceCents, lineTotalCents: res.body.priceCents * line.qty });
    });
    if (unknown.length) throw new ApiError(422, 'UNKNOWN_SKU', `no such product: ${unknown.join(', ')}`, { items: unknown });
    if (unavailable.length) throw new ApiError(422, 'PRODUCT_UNAVAILABLE', `no longer sold: ${unavailable.join(', ')}`, { items: unavailable });
    if (currencies.size !== 1) throw new ApiError(422, 'CURRENCY_MISMATCH', 'the products of one order must share a currency');
    return {
      currency: [...currencies][0]!,
      totalCents: priced.reduce((sum, l) => sum + l.lineTotalCents, 0),
      lines: priced,
    };
  }
}
