// What the edge may keep: the paths the services declare public (their `publicReads`: the same
// answer for everyone, e.g. catalog's product pages and listings) get a CloudFront behaviour of
// their own, placed before /api/*, whose cache policy keys on the path and the query strings the
// declaration names, never on cookies or Authorization, and keeps an answer only for as long as its
// Cache-Control says (no Cache-Control: not kept; at most PUBLIC_READ_MAX_TTL). Everything else
// under /api/* stays uncached (the managed CachingDisabled policy). And the review's view of a
// distribution: a row per path with what is cached, for how long and by what key.
import { settingsOf, type Environment, type ServiceCatalogue } from '../../environment/index.js';
import { pascal } from './stack.js';
import type { Resource, Template } from './template.js';

// AWS-managed CloudFront policies (fixed ids published by AWS, the same in every account).
export const MANAGED_CACHING_DISABLED = '4135ea2d-6df8-44a3-9df3-4b5a84be39ad';
export const MANAGED_ALL_VIEWER_EXCEPT_HOST_HEADER = 'b689b0a8-53d0-40ab-baf2-68738e2966ac';

/** The longest an edge keeps a public read, whatever the origin says (an admin's change shows within a minute). */
export const PUBLIC_READ_MAX_TTL = 60;

/** One public path at the edge: its pattern, the query strings in its cache key, its cache policy's logical id. */
export interface PublicReadPath {
  service: string;
  pathPattern: string;
  query: readonly string[];
  /** The cache policy's logical id, and its name after the `<project>-<environment>-` prefix. */
  cachePolicy: string;
  cachePolicyName: string;
}

/** The public paths of the catalogue's services, in catalogue then declaration order; one cache policy per distinct key. */
export function publicReadPaths(inv: Environment, services: ServiceCatalogue): PublicReadPath[] {
  return services.flatMap((d) =>
    (d.publicReads ?? []).map((read) => {
      const query = [...(read.query ?? [])];
      return {
        service: d.name,
        pathPattern: `${settingsOf(inv, d.name).pathPrefix}${read.path}`,
        query,
        // Paths keyed on the path alone share a policy; a query-keyed path has its own.
        cachePolicy: query.length ? `${pascal(d.name)}${pascal(read.path)}CachePolicy` : 'PublicReadCachePolicy',
        cachePolicyName: query.length ? `${d.name}-${read.path.split('/').filter((x) => /^[a-z0-9-]+$/.test(x)).join('-')}` : 'public-reads',
      };
    }),
  );
}

/** The cache policy of a public path: TTLs from the origin's Cache-Control, key = path (+ its query strings). */
export function publicReadCachePolicy(name: string, query: readonly string[]): Resource {
  return {
    Type: 'AWS::CloudFront::CachePolicy',
    Properties: {
      CachePolicyConfig: {
        Name: name,
        Comment: `Public reads: kept as long as Cache-Control allows (none without it, ${PUBLIC_READ_MAX_TTL}s at most); key: path${query.length ? ` and ${query.join(', ')}` : ''}; no cookies, no Authorization`,
        MinTTL: 0,
        DefaultTTL: 0,
        MaxTTL: PUBLIC_READ_MAX_TTL,
        ParametersInCacheKeyAndForwardedToOrigin: {
          EnableAcceptEncodingGzip: true,
          EnableAcceptEncodingBrotli: true,
          CookiesConfig: { CookieBehavior: 'none' },
          HeadersConfig: { HeaderBehavior: 'none' },
          QueryStringsConfig: query.length ? { QueryStringBehavior: 'whitelist', QueryStrings: [...query] } : { QueryStringBehavior: 'none' },
        },
      },
    },
  };
}

/**
 * Error answers the edge keeps for no time unless their Cache-Control says otherwise (CloudFront
 * keeps them 10 s by default): a 400 for a query string outside the cache key, or a 503 while an
 * instance drains, must not be served to everyone asking for the same key.
 */
export const UNCACHED_ERRORS = [400, 403, 404, 405, 414, 416, 500, 501, 502, 503, 504] as const;

// --- the review's table -----------------------------------------------------------------------------------

export const EDGE_HEADER = ['Path', 'Origin', 'Methods', 'Cached', 'TTL (min/default/max s)', 'Cache key'];

interface Behaviour {
  PathPattern?: string;
  TargetOriginId?: string;
  AllowedMethods?: string[];
  CachedMethods?: string[];
  CachePolicyId?: unknown;
}

/**
 * Each distribution's behaviours, in the order CloudFront matches them (the default last): a row per
 * path. Takes a rendered template or one read back from CloudFormation (the review's).
 */
export function edgeBehaviourRows(template: Template | Record<string, unknown>): string[][] {
  const rows: string[][] = [];
  const resources = (template.Resources ?? {}) as Record<string, Resource>;
  for (const resource of Object.values(resources)) {
    if (resource.Type !== 'AWS::CloudFront::Distribution') continue;
    const config = (resource.Properties?.DistributionConfig ?? {}) as { CacheBehaviors?: Behaviour[]; DefaultCacheBehavior?: Behaviour };
    const all = [...(config.CacheBehaviors ?? []), ...(config.DefaultCacheBehavior ? [{ ...config.DefaultCacheBehavior, PathPattern: '*' }] : [])];
    for (const b of all) rows.push(row(resources, b));
  }
  return rows;
}

function row(resources: Record<string, Resource>, b: Behaviour): string[] {
  const methods = (b.AllowedMethods ?? ['GET', 'HEAD']).length === 7 ? 'all' : (b.AllowedMethods ?? ['GET', 'HEAD']).join(', ');
  const base = [b.PathPattern ?? '', b.TargetOriginId ?? '', methods];
  if (b.CachePolicyId === MANAGED_CACHING_DISABLED) return [...base, 'no', '-', '-'];
  const id = typeof b.CachePolicyId === 'object' && b.CachePolicyId !== null ? (b.CachePolicyId as { Ref?: string }).Ref : undefined;
  const policy = id ? resources[id] : undefined;
  if (!policy) return [...base, 'yes', '?', `policy ${String(id ?? b.CachePolicyId)}`];
  const c = (policy.Properties?.CachePolicyConfig ?? {}) as {
    MinTTL?: number; DefaultTTL?: number; MaxTTL?: number;
    ParametersInCacheKeyAndForwardedToOrigin?: { QueryStringsConfig?: { QueryStringBehavior?: string; QueryStrings?: string[] }; CookiesConfig?: { CookieBehavior?: string }; HeadersConfig?: { HeaderBehavior?: string; Headers?: string[] } };
  };
  const key = c.ParametersInCacheKeyAndForwardedToOrigin ?? {};
  const qs = key.QueryStringsConfig?.QueryStringBehavior === 'whitelist' ? (key.QueryStringsConfig.QueryStrings ?? []).join(', ') : key.QueryStringsConfig?.QueryStringBehavior ?? 'none';
  const cookies = key.CookiesConfig?.CookieBehavior ?? 'none';
  const headers = key.HeadersConfig?.HeaderBehavior === 'whitelist' ? (key.HeadersConfig.Headers ?? []).join(', ') : key.HeadersConfig?.HeaderBehavior ?? 'none';
  const cached = `${(b.CachedMethods ?? ['GET', 'HEAD']).join(', ')}${c.DefaultTTL === 0 ? ', as Cache-Control allows' : ''}`;
  return [...base, cached, `${c.MinTTL ?? 0}/${c.DefaultTTL ?? 0}/${c.MaxTTL ?? 0}`, `path; query: ${qs}; cookies: ${cookies}; headers: ${headers}`];
}
