// The responses a server has in flight, so shutdown can wait for them and mark them
// `Connection: close`.
//
// Not a Set: a long-lived Set that gains and loses an entry per request is rebuilt by V8 every
// few hundred deletions, and each abandoned table keeps a pointer to its successor (for
// iterators) and its old entries. Once one abandoned table has been promoted to the old
// generation, the scavenger treats that pointer as live, so the next table and every response it
// held are promoted too, and so on: a busy catalog promoted about 2 MB of finished requests per
// scavenge, scavenges took 5-10 ms instead of under 1, and the product page's p99 doubled.
// Reused slots in one array allocate nothing per request and leave no chain behind.
import type { ServerResponse } from 'node:http';

const SLOT = Symbol('inflight slot');
type Tracked = ServerResponse & { [SLOT]?: number };

export class InflightResponses implements Iterable<ServerResponse> {
  private readonly slots: Array<ServerResponse | undefined> = [];
  private readonly free: number[] = [];
  private count = 0;

  get size(): number {
    return this.count;
  }

  add(res: ServerResponse): void {
    const slot = this.free.pop() ?? this.slots.length;
    this.slots[slot] = res;
    (res as Tracked)[SLOT] = slot;
    this.count++;
  }

  /** Forgets a response; a response not tracked (or already forgotten) is ignored. */
  delete(res: ServerResponse): void {
    const slot = (res as Tracked)[SLOT];
    if (slot === undefined || this.slots[slot] !== res) return;
    this.slots[slot] = undefined;
    (res as Tracked)[SLOT] = undefined;
    this.free.push(slot);
    this.count--;
  }

  *[Symbol.iterator](): Iterator<ServerResponse> {
    for (const res of this.slots) if (res !== undefined) yield res;
  }
}
