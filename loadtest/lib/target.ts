// --target: where the traffic goes and how the fleet is watched.
//   local             the local target: .saleday/local/state.json gives the gateway URL, and the
//                     local fleet's state and activity log are the scaling probe;
//   <url>             any http(s) URL, no scaling probe;
//   <inventory.yaml>  an inventory: `target: local` means the local target, `target: aws` loads
//                     the environment's URL and watches its Auto Scaling groups.
// Inventories are loaded and validated by environment/ (load.ts); the Auto Scaling groups are
// found by the standard tags the stacks put on them (Project, Environment, Service).
import { InventoryFileError, loadEnvironment, type Environment } from '../../environment/index.js';
import { AwsProbe } from './probes/aws.js';
import { LocalProbe, LocalStateError, readLocalState } from './probes/local.js';
import type { ScalingProbe } from './probes/probe.js';
import { UsageError } from './usage-error.js';

export interface Target {
  kind: 'local' | 'url' | 'aws';
  url: string;
  /** what was asked for, for the report */
  label: string;
  probe: ScalingProbe | undefined;
}

export interface TargetOptions {
  /** where the local target keeps its state (default .saleday/local under the repository) */
  stateDir: string;
  /** overrides the URL an inventory gives */
  url?: string;
  /** CloudWatch's LoadBalancer dimension (app/<name>/<id>) for the ALB's figures */
  loadBalancer?: string;
}

export async function resolveTarget(spec: string, opts: TargetOptions): Promise<Target> {
  if (spec === 'local') return localTarget(opts, 'local');
  if (/^https?:\/\//i.test(spec)) {
    let url: URL;
    try {
      url = new URL(spec);
    } catch {
      throw new UsageError(`--target ${spec} is not a valid URL (write it like http://127.0.0.1:8080)`);
    }
    return { kind: 'url', url: url.origin, label: url.origin, probe: undefined };
  }
  if (/\.ya?ml$/i.test(spec)) return inventoryTarget(spec, opts);
  throw new UsageError(`--target ${spec} is not local, an http(s) URL or an inventory file (playbooks/inventories/<env>.yaml)`);
}

async function localTarget(opts: TargetOptions, label: string): Promise<Target> {
  try {
    const state = await readLocalState(opts.stateDir);
    return { kind: 'local', url: opts.url ?? new URL(state.gatewayUrl).origin, label, probe: new LocalProbe(opts.stateDir) };
  } catch (err) {
    if (err instanceof LocalStateError) throw new UsageError(`--target ${label}: ${err.message}`);
    throw err;
  }
}

async function inventoryTarget(file: string, opts: TargetOptions): Promise<Target> {
  let inv: Environment;
  try {
    inv = await loadEnvironment(file);
  } catch (err) {
    if (err instanceof InventoryFileError) throw new UsageError(`--target ${err.message}`);
    throw err;
  }
  if (inv.target === 'local') return localTarget(opts, file);
  const alias = inv.domain?.aliases[0];
  const url = opts.url ?? (alias ? `https://${alias}` : undefined);
  if (!url) throw new UsageError(`--target ${file}: the inventory has no domain.aliases to load; pass the environment's URL with --url https://…`);
  const probe = new AwsProbe({
    region: inv.region,
    environment: inv.environment,
    project: inv.project,
    tagKeys: { project: 'Project', environment: 'Environment', service: 'Service' },
    ...(opts.loadBalancer ? { loadBalancer: opts.loadBalancer } : {}),
  });
  return { kind: 'aws', url: new URL(url).origin, label: file, probe };
}
