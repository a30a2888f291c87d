// The reservation API, for other services only (the service credential, never a customer's
// token): hold stock all-or-nothing, then commit or release it; both are idempotent.
import type { Request, Response, Server } from 'restify';
import { conflict, notFound } from '../kit/errors.js';
import type { ServiceCredential } from '../kit/service-credential.js';
import type { GroupCommit } from './group-commit.js';
import type { ReservationBatcher } from './reservation-batcher.js';
import type { CommitResult, ReservationLedger } from './reservation-ledger.js';
import { expectNoBody } from '../kit/validation.js';
import { isReservationId, parseReserveBody } from './schemas.js';

export interface ReservationRoutesDeps {
  credential: ServiceCredential;
  batcher: ReservationBatcher;
  ledger: ReservationLedger;
  /** Commits, decided many at a time (ledger.commitMany). */
  commits: GroupCommit<string, CommitResult | undefined>;
  defaultTtlSeconds: number;
}

export function registerReservationRoutes(server: Server, deps: ReservationRoutesDeps): void {
  const { credential, batcher, ledger, commits } = deps;

  server.post('/api/inventory/reservations', async (req: Request, res: Response) => {
    await credential.require(req);
    const body = parseReserveBody(req.body);
    const outcome = await batcher.reserve(body.items, body.ttlSeconds ?? deps.defaultTtlSeconds);
    if (!outcome.ok) {
      throw conflict('OUT_OF_STOCK', 'not enough stock for every line; nothing was reserved', { items: outcome.shortages });
    }
    const r = outcome.reservation;
    res.send(201, { reservationId: r.reservationId, status: r.status, expiresAt: r.expiresAt.toISOString(), items: r.items });
  });

  server.get('/api/inventory/reservations/:id', async (req: Request, res: Response) => {
    await credential.require(req);
    const id = (req.params as Record<string, string | undefined>).id;
    const found = isReservationId(id) ? await ledger.get(id) : undefined;
    if (!found) throw notFound('no such reservation');
    res.send(200, found);
  });

  server.post('/api/inventory/reservations/:id/commit', async (req: Request, res: Response) => {
    await credential.require(req);
    const id = (req.params as Record<string, string | undefined>).id;
    expectNoBody(req.body);
    const result = isReservationId(id) ? await commits.submit(id) : undefined;
    if (!result) throw notFound('no such reservation');
    if (!result.committed) {
      const r = result.reservation;
      throw conflict(`RESERVATION_${r.status}`, `the reservation is ${r.status.toLowerCase()} and can no longer be committed`, { reservation: r });
    }
    res.send(200, result.reservation);
  });

  server.post('/api/inventory/reservations/:id/release', async (req: Request, res: Response) => {
    await credential.require(req);
    const id = (req.params as Record<string, string | undefined>).id;
    expectNoBody(req.body);
    const released = isReservationId(id) ? await ledger.release(id) : undefined;
    if (!released) throw notFound('no such reservation');
    res.send(200, released);
  });
}
