// The bucket module: make sure the artifacts bucket exists, private, TLS only and tagged. Its
// name comes from the inventory with the account and region filled in, so every account gets its
// own; a name taken by another account is a clear failure, not a silent fallback.
import type { S3Api } from '../aws/s3.js';
import { RefusedError } from '../errors.js';
import { type TaskContext, type TaskOutcome, changed, ok } from '../runner.js';

export interface BucketArgs {
  bucket: string;
  region: string;
  tags: Record<string, string>;
}

export async function ensureBucket(args: BucketArgs, s3: S3Api, ctx: TaskContext): Promise<TaskOutcome> {
  const state = await s3.bucketState(args.bucket);
  if (state === 'owned') return ok(`s3://${args.bucket} exists`, { bucket: args.bucket });
  if (state === 'forbidden') {
    throw new RefusedError(`s3://${args.bucket} belongs to another account or these credentials may not use it: change artifacts.bucket in the inventory`);
  }
  if (ctx.check) return changed(`would create s3://${args.bucket} (private, TLS only)`, { bucket: args.bucket });
  await s3.createBucket(args.bucket, args.region, args.tags);
  return changed(`s3://${args.bucket} created (private, TLS only)`, { bucket: args.bucket });
}
