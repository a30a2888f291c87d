// The generator's side of an AWS run (a shard started by the launcher, aws.ts, as an ECS task with
// --results-s3 and --start-at s3://…): it says in status.json that it is setting up, then ready,
// waits for the start object the launcher writes once every task is ready, rewrites status.json
// with its live Status every few seconds while it runs, and at its end puts result.json (or, when
// it fails, the reason in status.json) for the launcher to merge.
import { Progress, type Status } from '../progress.js';
import type { RunResult } from '../result.js';
import { UsageError } from '../usage-error.js';
import type { ObjectStore } from './aws-api.js';
import { inFolder, RESULT_FILE, s3Url, STATUS_FILE, type S3Location, type ShardStatus, type StartSignal } from './aws-layout.js';
import { systemClock, type Clock } from './clock.js';

export interface ShardReporterOptions {
  store: ObjectStore;
  /** the shard's folder: s3://bucket/<prefix><run id>/<i>-of-<n>/ */
  folder: S3Location;
  clock?: Clock;
  /** how often status.json is rewritten while the run goes (default 3 s) */
  statusEveryMs?: number;
  /** how often the start object is looked for (default 1 s) */
  startPollMs?: number;
  /** how long to wait for the start before giving up (default 30 min: a launcher gone for good leaves no task running) */
  startTimeoutMs?: number;
}

export class ShardReporter {
  private status: Status | undefined;
  private state: ShardStatus['state'] = 'setup';
  private lastWrite = -Infinity;
  private writing: Promise<void> = Promise.resolve();
  private readonly clock: Clock;

  constructor(private readonly opts: ShardReporterOptions) {
    this.clock = opts.clock ?? systemClock;
  }

  /** A Progress that draws as `inner` does and keeps the live Status for status.json. */
  progress(inner: Progress): Progress {
    return new ReportingProgress(inner, (s) => {
      this.status = s;
      this.state = 'running';
      if (this.clock.now() - this.lastWrite >= (this.opts.statusEveryMs ?? 3000)) void this.write();
    });
  }

  /** Starts the shard's status (setting up); call first. */
  async begin(): Promise<void> {
    await this.write();
  }

  /** Says it is ready, then waits for the start object; resolves to the agreed start. */
  async ready(start: S3Location): Promise<Date> {
    this.state = 'ready';
    await this.write();
    const give = this.clock.now() + (this.opts.startTimeoutMs ?? 30 * 60_000);
    for (;;) {
      const text = await this.opts.store.get(start).catch(() => undefined);
      if (text !== undefined) {
        const at = new Date((JSON.parse(text) as StartSignal).at);
        if (!Number.isNaN(at.getTime())) return at;
      }
      if (this.clock.now() > give) throw new UsageError(`no start came at ${s3Url(start)} within ${Math.round((this.opts.startTimeoutMs ?? 30 * 60_000) / 60_000)} min: was the launcher stopped?`);
      await this.clock.sleep(this.opts.startPollMs ?? 1000);
    }
  }

  /** Puts result.json, then the final status. */
  async finish(result: RunResult): Promise<void> {
    await this.opts.store.put(inFolder(this.opts.folder, RESULT_FILE), `${JSON.stringify(result)}\n`);
    this.state = 'done';
    await this.write();
  }

  /** Says why the shard failed (best effort: the exit code tells the launcher anyway). */
  async fail(err: unknown, usage: boolean): Promise<void> {
    this.state = 'failed';
    await this.write({ message: (err as Error).message ?? String(err), usage }).catch(() => undefined);
  }

  private write(error?: ShardStatus['error']): Promise<void> {
    this.lastWrite = this.clock.now();
    const body: ShardStatus = { state: this.state, at: new Date(this.clock.now()).toISOString(), status: this.status, error };
    // One write at a time, in order: a slow PUT never lets an older status overwrite a newer one.
    this.writing = this.writing.then(() => this.opts.store.put(inFolder(this.opts.folder, STATUS_FILE), `${JSON.stringify(body)}\n`)).catch(() => undefined);
    return this.writing;
  }
}

/** Draws as the inner Progress does, and hands each Status on. */
class ReportingProgress extends Progress {
  constructor(
    private readonly inner: Progress,
    private readonly onStatus: (s: Status) => void,
  ) {
    super(process.stderr, true);
  }
  override line(text: string): void {
    this.inner.line(text);
  }
  override status(text: string): void {
    this.inner.status(text);
  }
  override clear(): void {
    this.inner.clear();
  }
  override update(s: Status): void {
    this.inner.update(s);
    this.onStatus(s);
  }
}
