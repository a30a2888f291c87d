// What a threshold kind is: its `metric:` names, the shape of one threshold of the kind, how it
// compiles and how it is judged. Each kind is one file beside this one, registered by name in
// registry.ts; the profile loader and the verdict read kinds only through the registry.
import type { Static, TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { didYouMean, type PathKey } from '../../../environment/index.js';
import type { ProfileCompiler } from '../profile/compiler.js';
import type { Snapshot } from '../recorder.js';
import type { RunResult, Verdict } from '../result.js';

export interface ThresholdBase {
  kind: string;
  /** Where it was written, e.g. `thresholds[2]`. */
  path: string;
  /** How it reads in a verdict, e.g. `p99 of GET /api/orders < 800 ms`. */
  label: string;
}

/** Where a threshold is written, and the names of the profile it may refer to. */
export interface ThresholdSite {
  /** `['thresholds', i]` */
  at: PathKey[];
  /** `thresholds[i]` */
  path: string;
  compiler: ProfileCompiler;
  phases: string[];
  journeys: string[];
  endpoints: string[];
}

export interface ThresholdKind<T extends ThresholdBase> {
  /** The `metric:` values that select this kind (latency answers to p50, p95, p99 and max). */
  readonly metrics: readonly string[];
  /** The shape of one threshold of this kind. */
  readonly schema: TSchema;
  /** Compiles a threshold its schema accepted; reports what only the whole profile can tell. */
  compile(raw: unknown, site: ThresholdSite): T;
  /** The verdict on a finished run, or on the merge of its shards. */
  judge(t: T, result: RunResult): Verdict;
  /** For abortOnFail kinds: a failing verdict on what is recorded so far (judged every second). */
  live?(t: T, now: Snapshot, elapsedMs: number): Verdict | undefined;
}

interface KindDefinition<S extends TSchema, T extends ThresholdBase> extends Omit<ThresholdKind<T>, 'schema' | 'compile'> {
  readonly schema: S;
  compile(raw: Static<S>, site: ThresholdSite): T;
}

/** A threshold kind whose compile step sees the raw threshold typed by its schema. */
export function defineThreshold<S extends TSchema, T extends ThresholdBase>(def: KindDefinition<S, T>): ThresholdKind<T> {
  return {
    ...def,
    compile(raw, site) {
      if (!Value.Check(def.schema, raw)) throw new Error(`${site.path} was compiled before its schema accepted it`);
      return def.compile(raw, site);
    },
  };
}

/** Reports a phase name the profile does not define. */
export function checkPhase(site: ThresholdSite, name: string | undefined, at: PathKey[]): void {
  if (name !== undefined && !site.phases.includes(name)) {
    site.compiler.add(at, `names the unknown phase "${name}"${didYouMean(name, site.phases)}`, `use one of the phases: ${site.phases.join(', ')}`);
  }
}
