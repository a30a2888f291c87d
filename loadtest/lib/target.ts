// --target: where the traffic goes and how the fleet is watched.
//   local             the local target: .saleday/local/state.json gives the gateway URL, and the
//                     local fleet's state and activity log are the scaling probe;
//   <url>             any http(s) URL, no scaling probe;
//   <inventory.yaml>  an inventory: `target: local` means the local target, `target: aws` loads
//                     the environment's URL and watches its Auto Scaling groups.
// The inventory is read narrowly here (project, target, environment, region, domain.aliases,
// loadtest.url, loadtest.loadBalancer); playbooks/lib/inventory.ts owns its full schema.
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
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
  let doc: Record<string, unknown>;
  try {
    doc = parse(await readFile(file, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(`--target ${file}: ${code === 'ENOENT' ? 'no such inventory file' : `cannot be read as YAML (${(err as Error).message.split('\n')[0]})`}`);
  }
  if (!doc || typeof doc !== 'object') throw new UsageError(`--target ${file}: not an inventory (a YAML mapping with target: local or aws)`);
  const kind = doc.target;
  if (kind === 'local') return localTarget(opts, file);
  if (kind !== 'aws') throw new UsageError(`--target ${file}: target is ${JSON.stringify(kind)}; an inventory says target: local or target: aws`);
  const environment = typeof doc.environment === 'string' ? doc.environment : typeof doc.name === 'string' ? doc.name : undefined;
  const region = typeof doc.region === 'string' ? doc.region : undefined;
  if (!environment || !region) throw new UsageError(`--target ${file}: an aws inventory needs environment and region`);
  const lt = (doc.loadtest ?? {}) as { url?: unknown; loadBalancer?: unknown };
  const aliases = (doc.domain as { aliases?: unknown } | undefined)?.aliases;
  const domain = Array.isArray(aliases) && typeof aliases[0] === 'string' ? aliases[0] : undefined;
  const url = opts.url ?? (typeof lt.url === 'string' ? lt.url : domain ? `https://${domain}` : undefined);
  if (!url) throw new UsageError(`--target ${file}: the inventory gives no URL to load; add loadtest.url (or domain.aliases) to it, or pass --url https://…`);
  const probe = new AwsProbe({
    region,
    environment,
    ...(typeof doc.project === 'string' ? { project: doc.project } : {}),
    ...(typeof lt.loadBalancer === 'string' ? { loadBalancer: lt.loadBalancer } : {}),
  });
  return { kind: 'aws', url: new URL(url).origin, label: file, probe };
}
