// The database connection budget: the connections the services may open with every group at its
// maximum, and at each sale event's pre-warm, against the instance class's default
// max_connections and the monitoring alarm's threshold. Per process (one per instance) a service
// opens the kit's Sequelize pool — a write pool on the primary and, with read replicas, a read
// pool spread round-robin over them — and the extra pools its declaration lists (catalog's raw
// read pools: one per replica, or one on the primary), each DB_POOL_MAX connections
// (services/kit/declaration.ts). The alarm watches the primary only (cloudformation/monitoring.ts).
import {
  DEFAULT_DB_POOL_MAX, prewarmOf, SHOP_SERVICES, settingsOf, type Environment, type SaleEvent, type ServiceCatalogue,
} from '../../../environment/index.js';
import { reporter, type CheckReport } from './finding.js';
import { classMemoryBytes, defaultMaxConnections, KNOWN_CLASS_FAMILIES } from './rds-classes.js';

/** One service's connections per instance. */
export interface ServicePools {
  service: string;
  poolMax: number;
  /** Connections one instance may hold on the primary. */
  primary: number;
  /** … and on each read replica. */
  replica: number;
}

export interface ConnectionBudget {
  instanceClass: string;
  maxConnections: number | undefined;
  alarmThreshold: number;
  readReplicas: number;
  pools: ServicePools[];
  /** Instances per service in the situation budgeted. */
  atMax: Record<string, number>;
}

/** Connections per instance of each service; an unreadable DB_POOL_MAX is reported and counted at the default. */
export function servicePools(inv: Environment, services: ServiceCatalogue, bad: (service: string, value: string) => void = () => undefined): ServicePools[] {
  const replicas = inv.database.readReplicas;
  return services.map((d) => {
    const value = settingsOf(inv, d.name).environment?.DB_POOL_MAX;
    let poolMax = DEFAULT_DB_POOL_MAX;
    if (value !== undefined) {
      const n = Number(value);
      if (/^\d+$/.test(value) && n >= 1 && n <= 1000) poolMax = n;
      else bad(d.name, value);
    }
    const raw = d.databasePools?.rawReads === true;
    // Sequelize: writes (and, without replicas, reads) on the primary; reads spread over the replicas.
    let primary = poolMax;
    let replica = replicas > 0 ? Math.ceil(poolMax / replicas) : 0;
    if (raw) {
      if (replicas > 0) replica += poolMax;
      else primary += poolMax;
    }
    return { service: d.name, poolMax, primary, replica };
  });
}

const sum = (pools: readonly ServicePools[], count: (s: string) => number, side: 'primary' | 'replica'): number =>
  pools.reduce((n, p) => n + count(p.service) * p[side], 0);

const terms = (pools: readonly ServicePools[], count: (s: string) => number, side: 'primary' | 'replica'): string =>
  pools.filter((p) => p[side] > 0).map((p) => `${p.service} ${count(p.service)}×${p[side]}`).join(' + ');

const pct = (n: number, of: number): string => `${Math.round((n / of) * 100)}%`;

export function checkDatabaseConnections(inv: Environment, services: ServiceCatalogue = SHOP_SERVICES): CheckReport {
  const r = reporter('database connections');
  const db = inv.database;
  if (inv.target === 'local') {
    r.summary(`local target: the local MySQL server's max_connections applies, not ${db.instanceClass}'s`);
    return r.report;
  }
  const pools = servicePools(inv, services, (service, value) =>
    r.error(`services.${service}.environment.DB_POOL_MAX`, `"${value}" is not a pool size; the service refuses to start with it`, 'set DB_POOL_MAX to an integer from 1 to 1000 (quoted, e.g. "20")'),
  );
  const bytes = classMemoryBytes(db.instanceClass);
  const maxConnections = defaultMaxConnections(db.instanceClass);
  const alarm = inv.monitoring.thresholds.rdsConnections;
  if (maxConnections === undefined || bytes === undefined) {
    r.error(
      'database.instanceClass',
      `no memory figure for ${db.instanceClass}, so its default max_connections ({DBInstanceClassMemory/12582880}) is unknown and the budget cannot be checked`,
      `use a class of a known family (${KNOWN_CLASS_FAMILIES.join(', ')}) or add ${db.instanceClass}'s memory to playbooks/lib/preflight/rds-classes.ts`,
    );
    return r.report;
  }
  r.summary(`${db.instanceClass}: ${bytes / 1024 ** 3} GiB → max_connections ≈ ${maxConnections} (RDS default {DBInstanceClassMemory/12582880}); alarm above ${alarm} on the primary`);
  if (alarm >= maxConnections) {
    r.warning('monitoring.thresholds.rdsConnections', `the alarm threshold ${alarm} is not below max_connections ${maxConnections}: it would fire only once connections are refused`, `set rdsConnections to about 80% of ${maxConnections} (${Math.floor(maxConnections * 0.8)})`);
  }

  const situation = (label: string, count: (s: string) => number, subject: string, lower: string): void => {
    const primary = sum(pools, count, 'primary');
    r.summary(`${label}, primary: ${terms(pools, count, 'primary')} = ${primary} (${pct(primary, maxConnections)} of ${maxConnections}; alarm ${alarm})`);
    if (primary > maxConnections) {
      r.error(subject, `${label} the services may open ${primary} connections on the primary, above its max_connections ${maxConnections}`, `${lower}, or move to a larger instance class`);
    } else if (primary > alarm) {
      r.warning(subject, `${label} the services may open ${primary} connections on the primary, above the alarm threshold ${alarm}: the alarm would page during a healthy scale-out`, `${lower}, or raise monitoring.thresholds.rdsConnections above ${primary} (below ${maxConnections})`);
    }
    if (db.readReplicas > 0) {
      const replica = sum(pools, count, 'replica');
      r.summary(`${label}, each of ${db.readReplicas} replicas: ${terms(pools, count, 'replica')} = ${replica} (${pct(replica, maxConnections)} of ${maxConnections})`);
      if (replica > maxConnections) {
        r.error(subject, `${label} the services may open ${replica} connections on each read replica, above its max_connections ${maxConnections}`, `${lower}, add read replicas, or move to a larger instance class`);
      }
    }
  };
  const lower = 'lower DB_POOL_MAX (services.<name>.environment) or scaling.max';
  situation('every group at max', (s) => settingsOf(inv, s).scaling.max, 'database.instanceClass', lower);
  for (const [i, event] of inv.saleEvents.entries()) {
    situation(`pre-warm ${event.name}`, (s) => prewarmed(inv, event, s), `saleEvents[${i}].prewarm`, 'lower the pre-warm or DB_POOL_MAX');
  }
  return r.report;
}

/** A group's size at an event's pre-warm: the pre-warm's desired, or the group's own when the event leaves it alone. */
function prewarmed(inv: Environment, event: SaleEvent, service: string): number {
  return prewarmOf(event, service)?.desired ?? settingsOf(inv, service).scaling.desired;
}
