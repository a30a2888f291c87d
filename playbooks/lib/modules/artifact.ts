// The artifact module: one service's self-contained, content-addressed artifact. It holds the
// service's compiled files and the compiled files they import (followed through relative imports,
// so a change to another service does not touch this one), package.json, and the production
// packages those files import with their dependencies as package-lock.json resolves them. The
// tarball is reproducible (sorted entries, fixed mtime, no owner names), so its sha256 names it:
// artifacts/<service>/<sha256>.tgz, uploaded only when absent. EC2 user-data unpacks it and runs
// the service's main program (environment programPath) with only Node.js installed. The database
// bootstrap function's artifact is built the same way from its handler and every service's operator
// commands, as a zip (what Lambda takes): artifacts/bootstrap/<sha256>.zip. The load harness's
// (artifacts/loadgen/<sha256>.tgz) holds loadtest/run.mjs, every compiled file of the harness
// (dist/loadtest: its generator workers are started by path, not imported), the profiles, and
// what those import: a loadgen task unpacks it and runs ./loadtest/run.mjs with only Node.js.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rename, stat, writeFile } from 'node:fs/promises';
import { join, posix, relative } from 'node:path';
import { create as createTar } from 'tar';
import { ZipFile } from 'yazl';
import { BOOTSTRAP_ARTIFACT, BOOTSTRAP_HANDLER_PROGRAM, LOADGEN_ARTIFACT } from '../../../cloudformation/index.js';
import { programPath, SHOP_SERVICES, type ServiceCatalogue } from '../../../environment/index.js';
import type { S3Api } from '../aws/s3.js';
import { RefusedError } from '../errors.js';
import { type TaskContext, type TaskOutcome, changed, ok } from '../runner.js';

export interface BuiltArtifact {
  service: string;
  file: string;
  sha256: string;
  size: number;
  files: number;
  key: string;
}

async function walk(root: string, dir: string, out: string[]): Promise<void> {
  let entries;
  try {
    entries = await readdir(join(root, dir), { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries) {
    const rel = posix.join(dir, e.name);
    if (e.isDirectory()) await walk(root, rel, out);
    else if (e.isFile()) out.push(rel);
  }
}

const IMPORT = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)['"]([^'"]+)['"]/g;

/** Package name of a bare specifier ('@scope/name/sub' → '@scope/name'); undefined for builtins and relative paths. */
export function packageName(specifier: string): string | undefined {
  if (specifier.startsWith('.') || specifier.startsWith('/') || specifier.startsWith('node:')) return undefined;
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

interface LockPackage {
  dev?: boolean;
  devOptional?: boolean;
  optional?: boolean;
  link?: boolean;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  /** Optional peers (sequelize's dialects): included when installed, since they are loaded at run time. */
  peerDependenciesMeta?: Record<string, unknown>;
}

/** The lockfile entry a package `name` required from `from` resolves to (Node's lookup, upwards). */
function resolveInLock(packages: Record<string, LockPackage>, from: string, name: string): string | undefined {
  let base = from;
  for (;;) {
    const candidate = base ? `${base}/node_modules/${name}` : `node_modules/${name}`;
    if (packages[candidate]) return candidate;
    if (!base) return undefined;
    const i = base.lastIndexOf('/node_modules/');
    base = i >= 0 ? base.slice(0, i) : '';
  }
}

/** The harness's entry point and the compiled CLI it loads (by path, so not followed as an import). */
const LOADGEN_ENTRY = 'loadtest/run.mjs';
const LOADGEN_CLI = 'dist/loadtest/lib/cli.js';

/** The compiled files an artifact starts from: a service's folder, or the bootstrap's handler and every declared command. */
async function startFiles(root: string, name: string, services: ServiceCatalogue): Promise<string[]> {
  if (name === BOOTSTRAP_ARTIFACT) {
    const programs = [BOOTSTRAP_HANDLER_PROGRAM, ...services.flatMap((d) => Object.keys(d.commands).map((program) => programPath(d.name, program)))];
    const missing = programs.find((p) => !existsSync(join(root, p)));
    if (missing) throw new RefusedError(`${missing} is missing: build first (npm run build)`);
    return programs;
  }
  if (name === LOADGEN_ARTIFACT) {
    const harness: string[] = [];
    await walk(root, 'dist/loadtest', harness);
    if (!harness.includes(LOADGEN_CLI)) throw new RefusedError(`${LOADGEN_CLI} is missing: build the harness first (npm run build)`);
    const profiles: string[] = [];
    await walk(root, 'loadtest/profiles', profiles);
    return [LOADGEN_ENTRY, ...harness.filter((f) => f.endsWith('.js')), ...profiles];
  }
  const main = programPath(name);
  const own: string[] = [];
  await walk(root, posix.dirname(main), own);
  if (!own.includes(main)) throw new RefusedError(`${main} is missing: build the services first (npm run build)`);
  return own.filter((f) => f.endsWith('.js'));
}

/** The artifact's files: its compiled start files, the compiled files they import, the packages they use. */
export async function artifactFiles(root: string, service: string, services: ServiceCatalogue = SHOP_SERVICES): Promise<string[]> {
  const files = new Set<string>();
  const bare = new Set<string>();
  const queue = await startFiles(root, service, services);
  while (queue.length) {
    const file = queue.pop()!;
    if (files.has(file)) continue;
    files.add(file);
    if (!/\.[cm]?js$/.test(file)) continue;
    const text = await readFile(join(root, file), 'utf8');
    for (const m of text.matchAll(IMPORT)) {
      const spec = m[1]!;
      if (spec.startsWith('.')) {
        const target = posix.normalize(posix.join(posix.dirname(file), spec));
        if (existsSync(join(root, target))) queue.push(target);
      } else {
        const name = packageName(spec);
        if (name) bare.add(name);
      }
    }
  }
  // Production packages: what the code imports, and what those need, as the lockfile resolved it.
  const lock = JSON.parse(await readFile(join(root, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockPackage> };
  const chosen = new Set<string>();
  const pending = [...bare].map((n) => resolveInLock(lock.packages, '', n)).filter((p): p is string => Boolean(p));
  while (pending.length) {
    const p = pending.pop()!;
    if (chosen.has(p)) continue;
    const entry = lock.packages[p]!;
    if (entry.link || !existsSync(join(root, p))) continue;
    chosen.add(p);
    for (const dep of Object.keys({ ...entry.dependencies, ...entry.optionalDependencies, ...entry.peerDependencies, ...entry.peerDependenciesMeta })) {
      const r = resolveInLock(lock.packages, p, dep);
      if (r) pending.push(r);
    }
  }
  const all = [...files, 'package.json'];
  for (const p of chosen) {
    const inside: string[] = [];
    await walk(root, p, inside);
    // Nested node_modules are packages of their own, included only when chosen.
    all.push(...inside.filter((f) => !f.slice(p.length + 1).includes('node_modules/')));
  }
  return [...new Set(all)].sort();
}

async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** A reproducible zip (sorted entries, fixed times and modes), for Lambda. */
function createZip(file: string, root: string, files: string[]): Promise<void> {
  const zip = new ZipFile();
  // A date built from local parts gives the same DOS time fields in every time zone.
  for (const f of files) zip.addFile(join(root, f), f, { mtime: new Date(2000, 0, 1), mode: 0o100644, forceDosTimestamp: true, compressionLevel: 6 });
  zip.end();
  return new Promise((resolve, reject) => {
    const out = createWriteStream(file);
    out.on('close', () => resolve());
    out.on('error', reject);
    zip.outputStream.on('error', reject).pipe(out);
  });
}

/** Builds (or finds in the cache) the artifact of one service, or the bootstrap's (a zip). */
export async function buildArtifact(root: string, service: string, cacheDir: string, keyPrefix = 'artifacts/'): Promise<BuiltArtifact> {
  const files = await artifactFiles(root, service);
  const ext = service === BOOTSTRAP_ARTIFACT ? 'zip' : 'tgz';
  // The cache is keyed by what goes in (paths, sizes, mtimes), the artifact by what came out.
  const fingerprint = createHash('sha256');
  for (const f of files) {
    const s = await stat(join(root, f));
    fingerprint.update(`${f}\0${s.size}\0${s.mtimeMs}\n`);
  }
  const base = join(cacheDir, `${service}-${fingerprint.digest('hex').slice(0, 16)}`);
  let sha: string;
  if (existsSync(`${base}.${ext}`) && existsSync(`${base}.sha256`)) {
    sha = (await readFile(`${base}.sha256`, 'utf8')).trim();
  } else {
    await mkdir(cacheDir, { recursive: true });
    const tmp = `${base}.${process.pid}.tmp`;
    if (ext === 'zip') await createZip(tmp, root, files);
    else await createTar({ file: tmp, cwd: root, gzip: { level: 6 }, portable: true, mtime: new Date(0), noDirRecurse: true, prefix: '' }, files);
    sha = await sha256File(tmp);
    await rename(tmp, `${base}.${ext}`);
    await writeFile(`${base}.sha256`, `${sha}\n`);
  }
  const size = (await stat(`${base}.${ext}`)).size;
  return { service, file: `${base}.${ext}`, sha256: sha, size, files: files.length, key: `${keyPrefix}${service}/${sha}.${ext}` };
}

export interface ArtifactArgs {
  service: string;
  root: string;
  cacheDir: string;
  bucket: string;
  /** False while the bucket does not exist yet (a first --check): nothing to look up. */
  bucketExists: boolean;
  keyPrefix: string;
}

const mb = (n: number): string => `${(n / 1024 / 1024).toFixed(1)} MB`;

/** Builds the artifact and uploads it when absent; data: bucket, key and sha256 (service stack inputs). */
export async function artifactTask(args: ArtifactArgs, s3: S3Api, ctx: TaskContext): Promise<TaskOutcome> {
  ctx.progress(`building the ${args.service} artifact`);
  const a = await buildArtifact(args.root, args.service, args.cacheDir, args.keyPrefix);
  const data = { bucket: args.bucket, key: a.key, sha256: a.sha256 };
  ctx.detail(`${relative(process.cwd(), a.file)}: ${a.files} files, ${mb(a.size)}`);
  const short = a.sha256.slice(0, 12);
  if (args.bucketExists && (await s3.headObject(args.bucket, a.key))) return ok(`${short} already uploaded (${mb(a.size)})`, data);
  if (ctx.check) return changed(`would upload ${short} (${mb(a.size)}, ${a.files} files) to s3://${args.bucket}/${a.key}`, data);
  ctx.progress(`uploading ${short} (${mb(a.size)})`);
  await s3.putObject(args.bucket, a.key, await readFile(a.file), { contentType: a.file.endsWith('.zip') ? 'application/zip' : 'application/gzip', metadata: { sha256: a.sha256, service: args.service } });
  return changed(`${short} uploaded (${mb(a.size)}) to s3://${args.bucket}/${a.key}`, data);
}
