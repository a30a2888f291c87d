// The preflight's offline checks: pure functions on the Environment (and the clock, and a load
// profile's peak when one is given). They need no credentials and run for every target where they
// apply. The online checks (AWS, read-only) are online.ts.
import { SHOP_SERVICES, type Environment, type ServiceCatalogue } from '../../../environment/index.js';
import { checkArchitecture } from './architecture.js';
import { checkCapacity, type PeakDemand } from './capacity.js';
import { checkCertificates } from './certificates.js';
import { checkDatabaseConnections } from './db-connections.js';
import type { CheckReport } from './finding.js';
import { checkScaling } from './scaling.js';

export * from './finding.js';
export type { PeakDemand } from './capacity.js';

export interface OfflineOptions {
  now: Date;
  peak?: PeakDemand | undefined;
  services?: ServiceCatalogue;
}

export function offlineChecks(inv: Environment, opts: OfflineOptions): CheckReport[] {
  const services = opts.services ?? SHOP_SERVICES;
  return [
    checkCertificates(inv),
    ...(inv.target === 'aws' ? [checkArchitecture(inv, services)] : []),
    checkScaling(inv, opts.now, services),
    checkDatabaseConnections(inv, services),
    checkCapacity(inv, opts.peak, services),
  ];
}
