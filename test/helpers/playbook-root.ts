// A private copy of what the playbook scripts run from, for tests that change it or write into it:
// playbooks/*.mjs and dist/ copied (timestamps kept), package.json and package-lock.json copied,
// node_modules and static/ linked. The scripts find their root from their own location, so
// ./playbooks/deploy.mjs run from the copy renders into the copy's build/ and builds artifacts
// from the copy's dist/ (a test can change a service's compiled code there). The artifact cache
// (build/artifacts, keyed by the files' paths, sizes and times) is the worktree's own, shared.
import { cp, mkdir, mkdtemp, readdir, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, distFile } from './processes.js';
import type { Teardown } from './moto.js';

export interface PlaybookRoot {
  dir: string;
  /** Absolute path of a playbook script in the copy. */
  script(name: 'deploy' | 'drift' | 'destroy' | 'status' | 'render'): string;
}

export async function playbookRoot(t: Teardown): Promise<PlaybookRoot> {
  distFile('playbooks/lib/scripts.js');
  const dir = await mkdtemp(join(tmpdir(), 'saleday-root-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await mkdir(join(dir, 'playbooks'));
  for (const f of await readdir(join(ROOT, 'playbooks'))) {
    if (f.endsWith('.mjs')) await cp(join(ROOT, 'playbooks', f), join(dir, 'playbooks', f), { preserveTimestamps: true });
  }
  await cp(join(ROOT, 'dist'), join(dir, 'dist'), { recursive: true, preserveTimestamps: true });
  for (const f of ['package.json', 'package-lock.json']) await cp(join(ROOT, f), join(dir, f), { preserveTimestamps: true });
  await symlink(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  await symlink(join(ROOT, 'static'), join(dir, 'static'));
  await mkdir(join(ROOT, 'build/artifacts'), { recursive: true });
  await mkdir(join(dir, 'build'));
  await symlink(join(ROOT, 'build/artifacts'), join(dir, 'build/artifacts'));
  return { dir, script: (name) => join(dir, 'playbooks', `${name}.mjs`) };
}
