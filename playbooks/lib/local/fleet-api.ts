// The local cloud as the fleet modules use it: its control API (start the supervisor, apply a fleet
// spec, read the live state, stop everything) and its state files, for one local folder.
import type { LocalActivity, LocalState } from '../../../environment/index.js';
import {
  type ApplyResult,
  type FleetSpec,
  type SupervisorInfo,
  applyFleet,
  ensureSupervisor,
  fleetState,
  readActivity,
  readState,
  stopFleet,
} from '../../../localcloud/index.js';

export interface FleetApi {
  /** The live state from the supervisor; undefined when none runs. */
  state(): Promise<LocalState | undefined>;
  /** The state file as last written (it stays when the supervisor died). */
  savedState(): Promise<LocalState | undefined>;
  /** The latest scaling activities, oldest first. */
  activity(limit: number): Promise<LocalActivity[]>;
  /** Starts the supervisor unless one runs. */
  ensureSupervisor(): Promise<SupervisorInfo>;
  /** Applies a fleet spec; resolves once every group is at its desired capacity (or rolled). */
  apply(spec: FleetSpec, onProgress: (service: string, message: string) => void): Promise<ApplyResult>;
  /** Drains and stops every worker, the gateway and the supervisor. */
  stop(): Promise<{ stopped: boolean; pids: number[] }>;
}

export function fleetApi(dir: string): FleetApi {
  return {
    state: () => fleetState(dir),
    savedState: () => readState(dir),
    activity: (limit) => readActivity(dir, limit),
    ensureSupervisor: () => ensureSupervisor(dir),
    apply: (spec, onProgress) => applyFleet(spec, { dir, onProgress }),
    stop: () => stopFleet(dir),
  };
}
