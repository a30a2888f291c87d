// Group commit for any per-item operation that can be decided many at a time in one transaction:
// items that arrive while `concurrency` batches are in flight wait for the next batch, so under
// load one transaction (one log flush, one round of statements) serves many requests, and alone
// an item goes out at once. The batch is taken one event-loop turn after a slot frees
// (setImmediate), so requests read in the same turn join it.
export interface GroupCommitOptions {
  /** Most items decided in one batch. */
  maxBatch: number;
  /** Batches in flight at once. */
  concurrency: number;
}

interface Waiting<I, O> {
  item: I;
  resolve(outcome: O): void;
  reject(err: unknown): void;
}

export class GroupCommit<I, O> {
  private queue: Array<Waiting<I, O>> = [];
  private inflight = 0;
  private scheduled = false;
  private readonly idle = new Set<() => void>();

  /** `decide` answers each item of a batch, in order (all in one transaction, or throws). */
  constructor(
    private readonly decide: (items: I[]) => Promise<O[]>,
    private readonly opts: GroupCommitOptions,
  ) {}

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.pump();
    });
  }

  /** Resolves once no batch is queued or running (used at shutdown). */
  drained(): Promise<void> {
    if (this.inflight === 0 && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idle.add(resolve));
  }

  private pump(): void {
    if (this.scheduled || this.inflight >= this.opts.concurrency || this.queue.length === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      while (this.inflight < this.opts.concurrency && this.queue.length > 0) {
        const batch = this.queue.splice(0, this.opts.maxBatch);
        this.inflight += 1;
        void this.run(batch).finally(() => {
          this.inflight -= 1;
          this.pump();
          if (this.inflight === 0 && this.queue.length === 0) {
            for (const done of this.idle) done();
            this.idle.clear();
          }
        });
      }
    });
  }

  /** A batch that fails is tried again item by item, so one bad item fails only its own request. */
  private async run(batch: Array<Waiting<I, O>>): Promise<void> {
    try {
      const outcomes = await this.decide(batch.map((w) => w.item));
      batch.forEach((w, i) => w.resolve(outcomes[i]!));
    } catch (err) {
      if (batch.length === 1) return batch[0]!.reject(err);
      await Promise.all(batch.map((w) => this.decide([w.item]).then((o) => w.resolve(o[0]!), (e: unknown) => w.reject(e))));
    }
  }
}
