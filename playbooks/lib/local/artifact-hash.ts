// A service's artifact identity for the local target: the sha256 of its compiled files (paths
// and contents, in a stable order). Same code, same hash; the fleet rolls a group when it changes.
import { createHash } from 'node:crypto';
import { readFile, readdir, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';

/** Hashes every file under the given files or folders (source maps included, they ship too). */
export async function hashArtifact(paths: readonly string[], base = process.cwd()): Promise<string> {
  const files: string[] = [];
  for (const p of paths) await collect(p, files);
  const unique = [...new Set(files)].sort();
  const hash = createHash('sha256');
  for (const f of unique) {
    hash.update(relative(base, f).split('\\').join('/'));
    hash.update('\0');
    hash.update(await readFile(f));
    hash.update('\0');
  }
  return `sha256:${hash.digest('hex')}`;
}

async function collect(p: string, out: string[]): Promise<void> {
  const s = await stat(p);
  if (s.isFile()) {
    out.push(p);
    return;
  }
  if (!s.isDirectory()) return;
  for (const entry of await readdir(p, { withFileTypes: true })) await collect(join(p, entry.name), out);
}
