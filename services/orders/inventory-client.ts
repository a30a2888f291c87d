// The orders service's view of inventory: reserve, commit, release and read a reservation over
// HTTP with the service credential. Commit, release and reads are idempotent, so the client may
// repeat them; a reservation is never repeated (its outcome may be unknown after a timeout, and
// then the reservation's expiry frees the stock).
import { ApiError } from '../kit/errors.js';
import type { ServiceClient, ServiceResponse } from '../kit/service-client.js';
import type { BasketLine } from './schemas.js';

export interface HeldReservation {
  reservationId: string;
  expiresAt: Date;
}

export type ReservationStatus = 'HELD' | 'COMMITTED' | 'RELEASED' | 'EXPIRED';

export class InventoryClient {
  constructor(private readonly inventory: ServiceClient) {}

  /** Holds every line or throws 409 OUT_OF_STOCK (the inventory's answer, passed on). */
  async reserve(lines: readonly BasketLine[], ttlSeconds: number): Promise<HeldReservation> {
    const res = await this.inventory.post('/api/inventory/reservations', { body: { items: lines, ttlSeconds } });
    if (res.status === 409) {
      const body = res.body as { items?: unknown };
      throw new ApiError(409, 'OUT_OF_STOCK', 'not enough stock for every line; nothing was ordered', { items: body?.items ?? [] });
    }
    const body = expect<{ reservationId: string; expiresAt: string }>(res, 201, 'reserve');
    return { reservationId: body.reservationId, expiresAt: new Date(body.expiresAt) };
  }

  /** COMMITTED, or the status that refused the commit (RELEASED, EXPIRED). */
  async commit(reservationId: string): Promise<ReservationStatus> {
    const res = await this.inventory.post(`/api/inventory/reservations/${reservationId}/commit`, { idempotent: true });
    if (res.status === 409) return (res.body as { reservation: { status: ReservationStatus } }).reservation.status;
    return expect<{ status: ReservationStatus }>(res, 200, 'commit').status;
  }

  async release(reservationId: string): Promise<ReservationStatus> {
    const res = await this.inventory.post(`/api/inventory/reservations/${reservationId}/release`, { idempotent: true });
    return expect<{ status: ReservationStatus }>(res, 200, 'release').status;
  }

  /** The reservation's status, or undefined when inventory has no such reservation. */
  async status(reservationId: string): Promise<ReservationStatus | undefined> {
    const res = await this.inventory.get(`/api/inventory/reservations/${reservationId}`);
    if (res.status === 404) return undefined;
    return expect<{ status: ReservationStatus }>(res, 200, 'read').status;
  }
}

/** Anything but the expected answer is a fault between the services (a 502 for our caller). */
function expect<T>(res: ServiceResponse, status: number, what: string): T {
  if (res.status === status) return res.body as T;
  if (res.status === 503) throw new ApiError(503, 'UPSTREAM_UNAVAILABLE', 'the inventory service is unavailable, retry shortly', undefined, { 'Retry-After': '1' });
  throw new ApiError(502, 'UPSTREAM_FAILED', `inventory refused the ${what} (${res.status})`);
}
