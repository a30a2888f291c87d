// What latency and error-rate thresholds share: a scope (all requests, one endpoint or one
// journey) and abortOnFail with its grace period.
import { Type } from '@sinclair/typebox';
import { didYouMean } from '../../../environment/index.js';
import { Dur } from '../profile/shapes.js';
import type { ThresholdSite } from './kind.js';

export type Scope = { endpoint?: string; journey?: string };

export const ScopeProps = {
  endpoint: Type.Optional(Type.String({ description: 'an endpoint name as the steps define it, e.g. GET /api/catalog/products/:sku' })),
  journey: Type.Optional(Type.String({ description: 'a journey name' })),
};

export const AbortProps = {
  abortOnFail: Type.Optional(Type.Boolean({ description: 'true stops the run as soon as the threshold fails (after the grace period)' })),
  grace: Type.Optional(Dur('how long after the start abortOnFail waits before judging')),
};

export function compileAbort(t: { abortOnFail?: boolean; grace?: string | number }, site: ThresholdSite): { abortOnFail: boolean; graceMs: number } {
  return { abortOnFail: t.abortOnFail === true, graceMs: t.grace === undefined ? 0 : site.compiler.duration(t.grace, [...site.at, 'grace'], 'the grace period') };
}

export function compileScope(t: Scope, site: ThresholdSite): Scope {
  const { compiler, endpoints, journeys } = site;
  const scope: Scope = {};
  if (t.endpoint !== undefined) {
    if (!endpoints.includes(t.endpoint)) compiler.add([...site.at, 'endpoint'], `names the unknown endpoint "${t.endpoint}"${didYouMean(t.endpoint, endpoints)}`, `use one of the endpoints the steps define: ${endpoints.join(', ')}`);
    scope.endpoint = t.endpoint;
  }
  if (t.journey !== undefined) {
    if (!journeys.includes(t.journey)) compiler.add([...site.at, 'journey'], `names the unknown journey "${t.journey}"${didYouMean(t.journey, journeys)}`, `use one of the journeys: ${journeys.join(', ')}`);
    scope.journey = t.journey;
  }
  if (scope.endpoint && scope.journey) compiler.add(site.at, 'names both an endpoint and a journey', 'keep one of them (or split it into two thresholds)');
  return scope;
}

/** ` of GET /api/orders`, ` of journey buyer`, or nothing for all requests. */
export const scopeLabel = (s: Scope): string => (s.endpoint ? ` of ${s.endpoint}` : s.journey ? ` of journey ${s.journey}` : '');

export function scopeName(scope: Scope): string {
  return scope.endpoint ? scope.endpoint : scope.journey ? `journey ${scope.journey}` : 'all requests';
}
