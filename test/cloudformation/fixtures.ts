// Shared by the cloudformation tests: the checked-in inventories, rendered.
import { fileURLToPath } from 'node:url';
import { loadEnvironment, type Environment } from '../../environment/index.js';
import { renderStacks, type RenderedStack } from '../../cloudformation/index.js';
import type { Resource, Template } from '../../cloudformation/lib/template.js';

export const ENVIRONMENTS = ['production', 'staging', 'local'] as const;
export type EnvironmentName = (typeof ENVIRONMENTS)[number];

/**
 * The time the golden templates are rendered for (render.mjs -e now=…): after Cyber Monday 2026,
 * before the 2027 summer sales, so they do not change as the clock moves.
 */
export const GOLDEN_NOW = new Date('2026-12-01T00:00:00Z');

export const inventoryFile = (env: string) => fileURLToPath(new URL(`../../playbooks/inventories/${env}.yaml`, import.meta.url));
export const repoFile = (path: string) => fileURLToPath(new URL(`../../${path}`, import.meta.url));

export interface Rendered {
  inv: Environment;
  stacks: RenderedStack[];
  stack(name: string): RenderedStack;
}

export async function rendered(env: string): Promise<Rendered> {
  const inv = await loadEnvironment(inventoryFile(env));
  const stacks = renderStacks(inv);
  return {
    inv,
    stacks,
    stack(name) {
      const s = stacks.find((x) => x.name === name);
      if (!s) throw new Error(`no stack ${name}`);
      return s;
    },
  };
}

export function ofType(template: Template, type: string): Array<[string, Resource]> {
  return Object.entries(template.Resources).filter(([, r]) => r.Type === type);
}

/** A deep copy to break on purpose. */
export function copy<T>(value: T): T {
  return structuredClone(value);
}
