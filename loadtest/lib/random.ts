// Seeded random numbers. Every journey gets its own stream from (profile seed, journey number), so
// journey number 1234 makes the same choices in one process and in shard 2 of 4: that is what
// lets shards add up to exactly the single-process totals. Math.random cannot be seeded, and a
// library for a dozen lines of mulberry32 would not pay for itself.

export interface Random {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [0, n). */
  int(n: number): number;
}

function mix(a: number, b: number): number {
  let h = Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(b + 0x7f4a7c15, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** mulberry32 over a state mixed from (seed, stream); a class, not closures: one per journey. */
class Mulberry implements Random {
  private state: number;
  constructor(seed: number, stream: number) {
    this.state = mix(seed | 0, stream | 0);
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) | 0;
    let t = Math.imul(this.state ^ (this.state >>> 15), 1 | this.state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
}

export function seeded(seed: number, stream: number): Random {
  return new Mulberry(seed, stream);
}
