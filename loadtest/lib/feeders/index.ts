// Data feeders: who the virtual customers are and which products they want. Each kind (its
// `type:`) is one file beside this one, registered here by name: a new kind is its file and one
// line in FEEDER_KINDS.
import type { FeederKind, Feeder } from './kind.js';
import { skus } from './skus.js';
import { users } from './users.js';
import { values } from './values.js';

export const FEEDER_KINDS = { users, skus, values };

type Registered = typeof FEEDER_KINDS;
/** A feeder's compiled settings, of any registered kind. */
export type FeederSpec = { [K in keyof Registered]: Registered[K] extends FeederKind<infer S> ? S : never }[keyof Registered];
type ByType = { [K in FeederSpec['type']]: Extract<FeederSpec, { type: K }> };

// Typed by `type:`, which also checks that each kind is registered under its own type.
const KINDS: { [K in keyof ByType]: FeederKind<ByType[K]> } = FEEDER_KINDS;

export function feederKind<K extends keyof ByType>(type: K): FeederKind<ByType[K]> {
  return KINDS[type];
}

/** The kind a `type:` names, if one is registered. */
export function feederKindOf(type: unknown): FeederKind<FeederSpec> | undefined {
  return Object.entries(KINDS).find(([name]) => name === type)?.[1];
}

/** The registered `type:` names, in registration order. */
export const FEEDER_TYPES = Object.keys(KINDS) as Array<keyof ByType>;

export function createFeeder(name: string, spec: FeederSpec, seed: number): Feeder {
  return feederKind(spec.type).create(name, spec, seed);
}

export type { Feeder, FeederSite, Row } from './kind.js';
export { hotSkus, skuName, type SkusFeederSpec } from './skus.js';
export type { UsersFeederSpec } from './users.js';
export type { ValuesFeederSpec } from './values.js';
