// The proxies between a client and a service instance, per place the shop runs, and so how many
// X-Forwarded-For entries a service trusts (TRUSTED_PROXY_HOPS: services/users/login-throttle.ts
// takes the entry that many places from the end as the client). Derived, not declared: the
// topology is fixed by the renderers and the local cloud, and a hand-set number could only drift.
//
// - aws: CloudFront, then the public load balancer. Every client request crosses both, because the
//   load balancer admits CloudFront's origin-facing prefix list only and forwards only requests
//   with the secret origin header (cloudformation/README.md, "Edge"). CloudFront appends the viewer's
//   address to X-Forwarded-For, the load balancer (xff_header_processing.mode append) the edge's:
//   `<anything the client sent>, <client>, <edge>`; the client is the second entry from the end.
//   Calls between services cross the internal load balancer only (`<caller>`): with 2 hops the
//   entry is missing and the first one, the caller, is taken.
// - local: the gateway, which appends the address it received from: `<…>, <client>`.

/** Where a service instance runs: behind AWS's edge and load balancer, or the local gateway. */
export type ProxyPlace = 'aws' | 'local';

const CHAINS: Readonly<Record<ProxyPlace, readonly string[]>> = {
  aws: ['CloudFront', 'the load balancer'],
  local: ['the local gateway'],
};

/** The proxies in front of an instance, client side first. */
export function proxyChain(place: ProxyPlace): readonly string[] {
  return CHAINS[place];
}

/** TRUSTED_PROXY_HOPS for an instance there: how many proxies append to X-Forwarded-For. */
export function trustedProxyHops(place: ProxyPlace): number {
  return CHAINS[place].length;
}
