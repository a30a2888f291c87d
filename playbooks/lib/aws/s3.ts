// The narrow part of S3 the playbooks use: is an object there (and with which checksum), put one,
// list a prefix. Puts are idempotent here (content-addressed keys, or the same bytes to the same
// key), so transient failures are retried.
import {
  type BucketLocationConstraint,
  CreateBucketCommand,
  DeleteObjectsCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutBucketPolicyCommand,
  PutBucketTaggingCommand,
  PutObjectCommand,
  PutPublicAccessBlockCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { type CallOptions, type RetryPolicy, withRetry } from './retry.js';

export interface ObjectInfo {
  key: string;
  etag: string;
  size: number;
  metadata?: Record<string, string> | undefined;
}

export interface PutOptions {
  contentType?: string | undefined;
  cacheControl?: string | undefined;
  metadata?: Record<string, string> | undefined;
}

export interface S3Api {
  headObject(bucket: string, key: string): Promise<ObjectInfo | undefined>;
  putObject(bucket: string, key: string, body: Buffer, opts?: PutOptions): Promise<void>;
  listObjects(bucket: string, prefix: string): Promise<ObjectInfo[]>;
  /** owned: exists and this account may use it; forbidden: another account's (or no permission). */
  bucketState(bucket: string): Promise<'owned' | 'missing' | 'forbidden'>;
  /** Creates a private bucket: public access blocked, TLS only, tagged (S3 encrypts by default). */
  createBucket(bucket: string, region: string, tags: Record<string, string>): Promise<void>;
  /** Deletes these keys (up to 1000 per request); a key already gone is no error. */
  deleteObjects(bucket: string, keys: string[]): Promise<void>;
}

const isNotFound = (err: unknown): boolean =>
  err instanceof Error &&
  (err.name === 'NotFound' || err.name === 'NoSuchKey' || (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404);

const unquote = (etag: string | undefined): string => (etag ?? '').replace(/"/g, '');

export class SdkS3 implements S3Api {
  constructor(
    private readonly client: S3Client,
    private readonly retry: RetryPolicy,
    private readonly opts: Omit<CallOptions, 'idempotent'> = {},
  ) {}

  async headObject(bucket: string, key: string): Promise<ObjectInfo | undefined> {
    try {
      const out = await withRetry('HeadObject', this.retry, { ...this.opts, idempotent: true }, () =>
        this.client.send(new HeadObjectCommand({ Bucket: bucket, Key: key })),
      );
      return { key, etag: unquote(out.ETag), size: out.ContentLength ?? 0, metadata: out.Metadata };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }

  async putObject(bucket: string, key: string, body: Buffer, opts: PutOptions = {}): Promise<void> {
    await withRetry('PutObject', this.retry, { ...this.opts, idempotent: true }, () =>
      this.client.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: key,
          Body: body,
          ContentType: opts.contentType,
          CacheControl: opts.cacheControl,
          Metadata: opts.metadata,
        }),
      ),
    );
  }

  async listObjects(bucket: string, prefix: string): Promise<ObjectInfo[]> {
    const all: ObjectInfo[] = [];
    let token: string | undefined;
    do {
      const out = await withRetry('ListObjectsV2', this.retry, { ...this.opts, idempotent: true }, () =>
        this.client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix || undefined, ContinuationToken: token })),
      );
      for (const o of out.Contents ?? []) all.push({ key: o.Key ?? '', etag: unquote(o.ETag), size: o.Size ?? 0 });
      token = out.IsTruncated ? out.NextContinuationToken : undefined;
    } while (token);
    return all;
  }

  async bucketState(bucket: string): Promise<'owned' | 'missing' | 'forbidden'> {
    try {
      await withRetry('HeadBucket', this.retry, { ...this.opts, idempotent: true }, () => this.client.send(new HeadBucketCommand({ Bucket: bucket })));
      return 'owned';
    } catch (err) {
      if (isNotFound(err) || (err instanceof Error && err.name === 'NoSuchBucket')) return 'missing';
      if ((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 403) return 'forbidden';
      throw err;
    }
  }

  async createBucket(bucket: string, region: string, tags: Record<string, string>): Promise<void> {
    const call = <T>(what: string, fn: () => Promise<T>) => withRetry(what, this.retry, { ...this.opts, idempotent: true }, fn);
    try {
      await call('CreateBucket', () =>
        this.client.send(
          new CreateBucketCommand({
            Bucket: bucket,
            ...(region === 'us-east-1' ? {} : { CreateBucketConfiguration: { LocationConstraint: region as BucketLocationConstraint } }),
          }),
        ),
      );
    } catch (err) {
      // A retried create finds the bucket it made: that is success.
      if (!(err instanceof Error && err.name === 'BucketAlreadyOwnedByYou')) throw err;
    }
    await call('PutPublicAccessBlock', () =>
      this.client.send(
        new PutPublicAccessBlockCommand({
          Bucket: bucket,
          PublicAccessBlockConfiguration: { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true },
        }),
      ),
    );
    const policy = {
      Version: '2012-10-17',
      Statement: [{ Sid: 'TlsOnly', Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: [`arn:aws:s3:::${bucket}`, `arn:aws:s3:::${bucket}/*`], Condition: { Bool: { 'aws:SecureTransport': 'false' } } }],
    };
    await call('PutBucketPolicy', () => this.client.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: JSON.stringify(policy) })));
    await call('PutBucketTagging', () =>
      this.client.send(new PutBucketTaggingCommand({ Bucket: bucket, Tagging: { TagSet: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) } })),
    );
  }

  async deleteObjects(bucket: string, keys: string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += 1000) {
      const batch = keys.slice(i, i + 1000);
      const out = await withRetry('DeleteObjects', this.retry, { ...this.opts, idempotent: true }, () =>
        this.client.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true } })),
      );
      const failed = out.Errors ?? [];
      if (failed.length) throw new Error(`s3://${bucket}: ${failed.length} objects not deleted (first ${failed[0]?.Key}: ${failed[0]?.Code ?? 'no code'} ${failed[0]?.Message ?? ''})`);
    }
  }
}
