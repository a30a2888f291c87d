// Where an AWS run keeps its files in the results bucket, the one layout the launcher (aws.ts) and
// the generator tasks (aws-task.ts) both read:
//   s3://<bucket>/<prefix><run id>/start-at.json        {"at": ISO time}: written once every task is ready
//   s3://<bucket>/<prefix><run id>/<i>-of-<n>/status.json  the shard's state and live Status, every few seconds
//   s3://<bucket>/<prefix><run id>/<i>-of-<n>/result.json  the shard's result, at its end
import type { Status } from '../progress.js';

export interface S3Location {
  bucket: string;
  key: string;
}

export const START_FILE = 'start-at.json';
export const STATUS_FILE = 'status.json';
export const RESULT_FILE = 'result.json';

/** What a generator task says about itself in status.json. */
export interface ShardStatus {
  /** setup: before its setup and stock read are done; ready: waiting for the start; running; done; failed */
  state: 'setup' | 'ready' | 'running' | 'done' | 'failed';
  /** when it wrote this */
  at: string;
  /** its live status (the same the terminal line shows), once the schedule runs */
  status?: Status | undefined;
  /** why it failed, when it did; usage: the command line, profile or target was wrong (the same for every shard) */
  error?: { message: string; usage: boolean } | undefined;
}

export interface StartSignal {
  at: string;
}

export function parseS3Url(url: string): S3Location | undefined {
  const m = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])\/(.*)$/.exec(url);
  return m ? { bucket: m[1]!, key: m[2]! } : undefined;
}

export function s3Url(loc: S3Location): string {
  return `s3://${loc.bucket}/${loc.key}`;
}

export function runFolder(results: { bucket: string; prefix: string }, runId: string): S3Location {
  return { bucket: results.bucket, key: `${results.prefix}${runId}/` };
}

/** The folder of shard `index` (0-based) of `count`: <prefix><run id>/<index+1>-of-<count>/ */
export function shardFolder(results: { bucket: string; prefix: string }, runId: string, index: number, count: number): S3Location {
  const run = runFolder(results, runId);
  return { bucket: run.bucket, key: `${run.key}${index + 1}-of-${count}/` };
}

export function inFolder(folder: S3Location, file: string): S3Location {
  return { bucket: folder.bucket, key: `${folder.key.endsWith('/') || !folder.key ? folder.key : `${folder.key}/`}${file}` };
}
