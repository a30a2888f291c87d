// Writes an environment's rendered templates to a folder, as the render and deploy playbooks need
// it: each file atomically (temp file + rename, never half-written), only when its bytes
// change (ok / changed, like an Ansible task), and stale templates of stacks no longer rendered
// removed so nothing misleading is left to deploy.
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RenderedFile } from '../registry.js';

export interface WrittenFile {
  file: string;
  path: string;
  status: 'ok' | 'changed' | 'removed';
  bytes: number;
  resources: number;
}

export async function writeRendered(files: readonly RenderedFile[], dir: string): Promise<WrittenFile[]> {
  await mkdir(dir, { recursive: true });
  const written: WrittenFile[] = [];
  for (const f of files) {
    const path = join(dir, f.file);
    const current = await readFile(path, 'utf8').catch(() => undefined);
    const status = current === f.body ? 'ok' : 'changed';
    if (status === 'changed') {
      const temp = `${path}.${process.pid}.tmp`;
      await writeFile(temp, f.body);
      await rename(temp, path);
    }
    written.push({ file: f.file, path, status, bytes: Buffer.byteLength(f.body), resources: Object.keys(f.stack.template.Resources).length });
  }
  const expected = new Set(files.map((f) => f.file));
  for (const name of (await readdir(dir)).sort()) {
    if (!name.endsWith('.yaml') || expected.has(name)) continue;
    await rm(join(dir, name));
    written.push({ file: name, path: join(dir, name), status: 'removed', bytes: 0, resources: 0 });
  }
  return written;
}
