// The local shop's state files, the contract between the local cloud (localcloud/, the writer),
// status.mjs and the load harness (loadtest/, readers). Both live in the local folder
// (.saleday/local/, or SALEDAY_LOCAL_DIR):
//   state.json      one LocalState, replaced atomically whenever a size, a worker or the gateway
//                   changes (a reader never sees half of it)
//   activity.jsonl  one LocalActivity per line, appended at each scaling activity (like an ASG's
//                   activity history); a reader may meet a last line still being written
// Readers take the JSON as untrusted: the types say what the writer writes, not what a file holds.

export const LOCAL_STATE_FILE = 'state.json';
export const LOCAL_ACTIVITY_FILE = 'activity.jsonl';

/** A worker (one process, an "instance") starts, serves, then drains before it stops. */
export type LocalWorkerState = 'starting' | 'in-service' | 'draining';

export interface LocalWorker {
  pid: number;
  port: number;
  state: LocalWorkerState;
}

/** One service's group of workers, the local Auto Scaling group. */
export interface LocalServiceState {
  min: number;
  max: number;
  desired: number;
  /** Workers launched and not yet stopped (starting, in service or draining). */
  size: number;
  workers: LocalWorker[];
  /** Average CPU the group tracks, in percent of one core per worker. */
  cpuTarget: number;
  /** The code the group runs: `sha256:<hex>` of its compiled files. */
  artifact: string;
}

/** state.json */
export interface LocalState {
  environment: 'local';
  /** Where the shop answers (the gateway, the local load balancer). */
  gatewayUrl: string;
  /** ISO 8601 time of this state. */
  updatedAt: string;
  services: Record<string, LocalServiceState>;
}

/** One line of activity.jsonl. */
export interface LocalActivity {
  /** ISO 8601 */
  time: string;
  service: string;
  /** The group's capacity before and after (equal when a worker was replaced). */
  from: number;
  to: number;
  cause: string;
}
