// The glue between a service of this repository and the fleet: where its compiled worker
// program is and what its artifact is (the hash of its compiled code, the shared kit and the
// lockfile, so a change to any of them rolls its workers and nothing else does).
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { hashArtifact } from './artifact-hash.js';
import type { ScalingPolicy, ServiceSpec } from '../../../localcloud/fleet-spec.js';

export interface LocalServiceInput {
  /** Repository root (holds dist/ and package-lock.json). */
  root: string;
  /** The service's environment (secret references, URLs, log level); PORT and HOST are the fleet's. */
  env: Record<string, string>;
  policy: ScalingPolicy;
  routes?: string[];
}

export async function localServiceSpec(name: string, input: LocalServiceInput): Promise<ServiceSpec> {
  const root = resolve(input.root);
  const program = join(root, 'dist', 'services', name, 'main.js');
  if (!existsSync(program)) throw new Error(`${program} is missing: build first (npm run build)`);
  const parts = [join(root, 'dist', 'services', name), join(root, 'dist', 'services', 'kit'), join(root, 'package-lock.json')].filter((p) => existsSync(p));
  return {
    program,
    env: input.env,
    artifact: await hashArtifact(parts, root),
    policy: input.policy,
    ...(input.routes ? { routes: input.routes } : {}),
  };
}
