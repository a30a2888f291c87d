// The deploy order, derived from the stacks' inputs: a stack goes after every stack whose outputs
// it takes. Stacks that do not depend on each other form a wave and can deploy in parallel; within
// a wave they keep their registration order.
import type { Input } from './stack.js';

/** What the order needs of a stack. */
export interface Wired {
  name: string;
  inputs: Record<string, Input>;
}

/** The stacks whose outputs `stack` takes, directly. */
export function dependenciesOf(stack: Wired): string[] {
  return [...new Set(Object.values(stack.inputs).flatMap((i) => (i.from === 'output' ? [i.stack] : [])))];
}

/** Whether `from` takes outputs of `to`, directly or through other stacks (a stack reaches itself). */
export function reaches(stacks: readonly Wired[], from: string, to: string): boolean {
  const byName = new Map(stacks.map((s) => [s.name, s]));
  const seen = new Set<string>();
  const pending = [from];
  while (pending.length) {
    const name = pending.pop()!;
    if (name === to) return true;
    if (seen.has(name)) continue;
    seen.add(name);
    const stack = byName.get(name);
    if (stack) pending.push(...dependenciesOf(stack));
  }
  return false;
}

/**
 * Stacks in waves: every stack in a wave takes outputs only from stacks of earlier waves. Refuses
 * inputs from stacks that are not there and stacks that take each other's outputs.
 */
export function deployWaves<S extends Wired>(stacks: readonly S[]): S[][] {
  const names = new Set(stacks.map((s) => s.name));
  for (const s of stacks) {
    const missing = dependenciesOf(s).filter((d) => !names.has(d));
    if (missing.length) throw new Error(`${s.name} takes outputs of ${missing.join(', ')}, which ${missing.length === 1 ? 'is' : 'are'} not rendered`);
  }
  const waves: S[][] = [];
  const placed = new Set<string>();
  let left = [...stacks];
  while (left.length) {
    const wave = left.filter((s) => dependenciesOf(s).every((d) => placed.has(d)));
    if (!wave.length) throw new Error(`${left.map((s) => s.name).join(', ')} take outputs of each other: no order deploys them`);
    waves.push(wave);
    for (const s of wave) placed.add(s.name);
    left = left.filter((s) => !placed.has(s.name));
  }
  return waves;
}
