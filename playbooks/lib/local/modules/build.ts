// The build module: the local target deploys what dist/ holds, as the AWS target ships it in
// artifacts. When a service's TypeScript is newer than its compiled code, deploy builds first, so
// "change the code, run deploy again" rolls that service (and only that one, by its artifact hash).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { programPath } from '../../../../environment/index.js';
import { type TaskContext, type TaskOutcome, changed, ok } from '../../runner.js';

export interface BuildArgs {
  /** Repository root: services/ is compiled into its dist/. */
  root: string;
}

export interface BuildApi {
  /** What is newer than the compiled services (a source file, or 'dist/ is missing'); undefined when nothing is. */
  staleBuild(root: string): Promise<string | undefined>;
  build(root: string, signal: AbortSignal): Promise<void>;
}

export async function ensureBuilt(args: BuildArgs, api: BuildApi, ctx: TaskContext): Promise<TaskOutcome> {
  const stale = await api.staleBuild(args.root);
  if (!stale) return ok('dist/ is newer than every source file');
  if (ctx.check) return changed(`would build (${stale} changed since the last build)`);
  ctx.progress(`${stale} changed since the last build: npm run build`);
  await api.build(args.root, ctx.signal);
  return changed('built dist/ (tsc -p tsconfig.build.json)');
}

export const tscBuild: BuildApi = { staleBuild, build: runTsc };

async function newest(dir: string, ext: string): Promise<{ path: string; mtimeMs: number } | undefined> {
  let best: { path: string; mtimeMs: number } | undefined;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !entry.name.endsWith(ext)) continue;
    const path = join(entry.parentPath, entry.name);
    const { mtimeMs } = await stat(path);
    if (!best || mtimeMs > best.mtimeMs) best = { path, mtimeMs };
  }
  return best;
}

async function oldest(paths: string[]): Promise<number> {
  let min = Infinity;
  for (const p of paths) min = Math.min(min, existsSync(p) ? (await stat(p)).mtimeMs : -Infinity);
  return min;
}

/** The newest source file when it is newer than the compiled services (or those are missing). */
export async function staleBuild(root: string): Promise<string | undefined> {
  const sources = join(root, 'services');
  if (!existsSync(sources)) return undefined;
  const services = (await readdir(sources, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => d.name);
  // Each service's main program; the kit, which has none, by the module every service starts from.
  const built = await oldest(services.map((s) => join(root, s === 'kit' ? programPath(s, 'service') : programPath(s))));
  const src = await newest(sources, '.ts');
  if (!src) return undefined;
  if (built === -Infinity) return 'dist/ is missing';
  return src.mtimeMs > built ? relative(root, src.path) : undefined;
}

async function runTsc(root: string, signal: AbortSignal): Promise<void> {
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  await new Promise<void>((resolve, reject) => {
    const child = spawn(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], signal });
    let out = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (out += c.toString()));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`the build failed (tsc exit ${code}):\n${out.trim().split('\n').slice(0, 10).join('\n')}`)),
    );
  });
}
