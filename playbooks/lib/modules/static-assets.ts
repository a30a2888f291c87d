// The static-assets module: sync a folder to the static bucket, changed files only (compared by
// MD5 with the object's ETag), each with its content type and cache headers, then invalidate in
// CloudFront only the paths that were overwritten (new paths have nothing cached).
import { createHash } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { lookup } from 'mime-types';
import type { CloudFrontApi } from '../aws/cloudfront.js';
import type { S3Api } from '../aws/s3.js';
import { type TaskContext, type TaskOutcome, changed, ok, skipped } from '../runner.js';

export interface StaticAssetsArgs {
  dir: string;
  bucket: string | undefined;
  distributionId: string | undefined;
  /** Key prefix in the bucket ('' for the root). */
  prefix: string;
}

/** HTML revalidates every time; fingerprinted names are immutable; everything else an hour. */
export function cacheControlFor(key: string): string {
  if (/\.html?$/i.test(key)) return 'public, max-age=0, must-revalidate';
  if (/[.-][0-9a-f]{8,}\.[a-z0-9]+$/i.test(key)) return 'public, max-age=31536000, immutable';
  return 'public, max-age=3600';
}

export function contentTypeFor(key: string): string {
  const type = lookup(key) || 'application/octet-stream';
  return /^text\/|javascript|json|xml|svg/.test(type) && !type.includes('charset') ? `${type}; charset=utf-8` : type;
}

async function localFiles(dir: string, rel = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(join(dir, rel), { withFileTypes: true })) {
    const p = rel ? posix.join(rel, e.name) : e.name;
    if (e.isDirectory()) out.push(...(await localFiles(dir, p)));
    else if (e.isFile()) out.push(p);
  }
  return out.sort();
}

/** The paths to invalidate for overwritten keys: /a/index.html also invalidates /a/. */
export function invalidationPaths(keys: string[]): string[] {
  const paths = new Set<string>();
  for (const k of keys) {
    paths.add(`/${k}`);
    if (k === 'index.html' || k.endsWith('/index.html')) paths.add(`/${k.slice(0, -'index.html'.length)}`);
  }
  // CloudFront charges per path beyond a free allowance: many paths become one wildcard.
  return paths.size > 30 ? ['/*'] : [...paths].sort();
}

export async function syncStaticAssets(args: StaticAssetsArgs, s3: S3Api, cloudfront: CloudFrontApi, ctx: TaskContext): Promise<TaskOutcome> {
  let files: string[];
  try {
    files = await localFiles(args.dir);
  } catch {
    return skipped(`no static assets folder at ${args.dir}`);
  }
  if (!args.bucket) return ctx.check ? changed(`would upload ${files.length} files once the static bucket exists`) : skipped('the static bucket is not known yet');
  const remote = new Map((await s3.listObjects(args.bucket, args.prefix)).map((o) => [o.key, o.etag]));
  const uploads: Array<{ key: string; body: Buffer; overwrite: boolean }> = [];
  for (const f of files) {
    const body = await readFile(join(args.dir, f));
    const key = args.prefix ? posix.join(args.prefix, f) : f;
    const etag = remote.get(key);
    if (etag !== createHash('md5').update(body).digest('hex')) uploads.push({ key, body, overwrite: etag !== undefined });
  }
  if (!uploads.length) return ok(`${files.length} files, all up to date`);
  const paths = invalidationPaths(uploads.filter((u) => u.overwrite).map((u) => u.key));
  const what = `${uploads.length} of ${files.length} files changed${paths.length ? `, ${paths.length} path${paths.length === 1 ? '' : 's'} to invalidate` : ''}`;
  if (ctx.check) return changed(`would upload ${what}`);
  for (const u of uploads) {
    ctx.detail(`upload ${u.key}`);
    await s3.putObject(args.bucket, u.key, u.body, { contentType: contentTypeFor(u.key), cacheControl: cacheControlFor(u.key) });
  }
  if (paths.length && args.distributionId) {
    const ref = createHash('sha256').update(uploads.map((u) => `${u.key}:${createHash('md5').update(u.body).digest('hex')}`).join('\n')).digest('hex').slice(0, 32);
    const id = await cloudfront.invalidate(args.distributionId, paths, ref);
    ctx.progress(`invalidation ${id}: ${paths.join(' ')}`);
  }
  return changed(`uploaded ${what}`);
}
