// The local cloud: the whole shop on one machine, as a runtime the local target starts. A detached
// supervisor (supervisor-main.ts, `node dist/localcloud/supervisor-main.js --dir <local dir>`)
// keeps one gateway (the local load balancer) and one autoscaled group of worker processes per
// service (the local Auto Scaling groups). It is driven through its control API, HTTP on a unix
// socket in the local folder (control-server.ts: GET /state, POST /apply a fleet spec, POST /stop),
// and reports through the state files state.json and activity.jsonl (their shape, the contract with
// status.mjs and the load harness: environment/local-state.ts). It imports the environment model
// only. This file is its public API: what the local target (playbooks/lib/local/) uses.
export { FleetError, applyFleet, ensureSupervisor, fleetState, stopFleet, type SupervisorInfo } from './control-client.js';
export type { FleetSpec, ScalingPolicy, ServiceSpec, Tuning } from './fleet-spec.js';
export { formatFleetStatus } from './fleet-status.js';
export { freePort } from './free-port.js';
export { DEFAULT_LOCAL_DIR, localDir } from './local-paths.js';
export { minimalEnv } from './process-env.js';
export { readActivity, readState } from './state-file.js';
export { FLEET_ROLES, SHOP_DIR_VAR, SHOP_ROLE_VAR, endProcesses, shopMarker, shopProcesses, startTimeOf, type ShopProcess, type ShopRole } from './shop-processes.js';
export type { ApplyResult, ServiceOutcome } from './supervisor.js';
