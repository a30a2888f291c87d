// Issue 14 items 3 and 4, on the rendered production and staging templates: only CloudFront reaches
// the public load balancer (prefix list, origin header, 403 otherwise), CloudFront reaches it over
// HTTPS wherever there is a certificate (and staging's review says it does not), services call each
// other through an internal load balancer inside the VPC, and Route 53 records come with
// domain.hostedZoneId.
import t from 'tap';
import { edgeBehaviourRows, renderStacks, validateStacks, type RenderedStack } from '../../cloudformation/index.js';
import { loadEnvironment, type Environment } from '../../environment/index.js';
import type { Template } from '../../cloudformation/lib/template.js';
import { inventoryFile, ofType, rendered, type Rendered } from './fixtures.js';

const production = await rendered('production');
const staging = await rendered('staging');
const both = [production, staging];
const HOSTED_ZONE = 'Z0123456789ABCDEFGHIJ';
const withZone = await loadEnvironment(inventoryFile('production'), { overrides: [`domain.hostedZoneId=${HOSTED_ZONE}`] });

type Rule = { IpProtocol?: string; FromPort?: number; CidrIp?: unknown; CidrIpv6?: unknown; SourcePrefixListId?: unknown; SourceSecurityGroupId?: unknown };
const ingress = (x: Template, group: string): Rule[] => (x.Resources[group]!.Properties!.SecurityGroupIngress ?? []) as Rule[];
const env = (r: Rendered) => r.inv.environment;
const RESOLVE_CURRENT = '{{resolve:secretsmanager:${OriginHeaderSecretArn}:SecretString:value::${OriginHeaderVersionId}}}';
const RESOLVE_PENDING = '{{resolve:secretsmanager:${OriginHeaderSecretArn}:SecretString:value::${OriginHeaderPendingVersionId}}}';

t.test('no security group ingress from 0.0.0.0/0 or ::/0 in any stack', (t) => {
  for (const r of both) {
    for (const s of r.stacks) {
      const open: string[] = [];
      for (const [id, sg] of ofType(s.template, 'AWS::EC2::SecurityGroup')) {
        for (const rule of (sg.Properties!.SecurityGroupIngress ?? []) as Rule[]) if (rule.CidrIp === '0.0.0.0/0' || rule.CidrIpv6 === '::/0') open.push(id);
      }
      for (const [id, x] of ofType(s.template, 'AWS::EC2::SecurityGroupIngress')) {
        const rule = x.Properties as Rule;
        if (rule.CidrIp === '0.0.0.0/0' || rule.CidrIpv6 === '::/0') open.push(id);
      }
      t.same(open, [], `${env(r)}/${s.name}`);
    }
  }
  t.end();
});

t.test('the public load balancer admits the CloudFront origin-facing prefix list only, on one port', (t) => {
  for (const r of both) {
    const lb = r.stack('load-balancer');
    const port = r.inv.domain?.albCertificateArn ? 443 : 80;
    t.same(ingress(lb.template, 'LoadBalancerSecurityGroup'), [
      { IpProtocol: 'tcp', FromPort: port, ToPort: port, SourcePrefixListId: { Ref: 'CloudFrontPrefixListId' }, Description: `${port === 443 ? 'HTTPS' : 'HTTP'} from CloudFront only` },
    ], `${env(r)}: ${port} from the prefix list`);
    t.same(lb.inputs.CloudFrontPrefixListId, { from: 'lookup', lookup: 'cloudfront-origin-prefix-list' }, `${env(r)}: the playbook looks the list up`);
    t.match(lb.template.Parameters.CloudFrontPrefixListId, { AllowedPattern: '^pl-[0-9a-f]{8,17}$' });
    t.equal(ofType(lb.template, 'AWS::ElasticLoadBalancingV2::Listener').filter(([, l]) => l.Properties!.LoadBalancerArn && JSON.stringify(l.Properties!.LoadBalancerArn) === '{"Ref":"LoadBalancer"}').length, 1, `${env(r)}: one public listener`);
  }
  t.end();
});

t.test('the origin header: CloudFront sends it, the listener forwards only with it, 403 otherwise', (t) => {
  for (const r of both) {
    const lb = r.stack('load-balancer').template;
    const listener = lb.Resources.Listener!.Properties!;
    t.match(listener.DefaultActions, [{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '403' } }], `${env(r)}: default 403`);
    const rules = ofType(lb, 'AWS::ElasticLoadBalancingV2::ListenerRule').filter(([, x]) => JSON.stringify(x.Properties!.ListenerArn) === '{"Ref":"Listener"}');
    t.equal(rules.length, Object.keys(r.inv.services).length + 1, `${env(r)}: a rule per service and the 404 rule`);
    for (const [id, rule] of rules) {
      const header = (rule.Properties!.Conditions as Array<{ Field: string; HttpHeaderConfig?: unknown }>).find((c) => c.Field === 'http-header');
      t.same(header?.HttpHeaderConfig, {
        HttpHeaderName: 'X-Origin-Verify',
        Values: [{ 'Fn::Sub': RESOLVE_CURRENT }, { 'Fn::If': ['OriginHeaderRotating', { 'Fn::Sub': RESOLVE_PENDING }, { Ref: 'AWS::NoValue' }] }],
      }, `${env(r)}/${id}: the current value, and the pending one during a rotation`);
    }
    t.same(lb.Conditions?.OriginHeaderRotating, { 'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'OriginHeaderPendingVersionId' }, ''] }] });
    const lbInputs = r.stack('load-balancer').inputs;
    t.same([lbInputs.OriginHeaderSecretArn, lbInputs.OriginHeaderVersionId, lbInputs.OriginHeaderPendingVersionId], [
      { from: 'secret', secret: 'origin-header' },
      { from: 'secret-version', secret: 'origin-header', stage: 'current' },
      { from: 'secret-version', secret: 'origin-header', stage: 'pending' },
    ]);

    const site = r.stack('static-site');
    const api = (site.template.Resources.Distribution!.Properties!.DistributionConfig as { Origins: Array<{ Id: string; OriginCustomHeaders?: unknown }> }).Origins.find((o) => o.Id === 'api')!;
    t.same(api.OriginCustomHeaders, [{ HeaderName: 'X-Origin-Verify', HeaderValue: { 'Fn::Sub': RESOLVE_CURRENT } }], `${env(r)}: CloudFront sends the current value, by reference`);
    t.same(site.inputs.OriginHeaderVersionId, { from: 'secret-version', secret: 'origin-header', stage: 'current' });
  }
  t.end();
});

t.test('CloudFront reaches the load balancer over HTTPS wherever there is a certificate; staging says it does not', async (t) => {
  const origin = (s: RenderedStack) =>
    (s.template.Resources.Distribution!.Properties!.DistributionConfig as { Origins: Array<{ Id: string; DomainName: unknown; CustomOriginConfig: { OriginProtocolPolicy: string } }> }).Origins.find((o) => o.Id === 'api')!;
  t.match(origin(production.stack('static-site')), { DomainName: 'api.shop.example.com', CustomOriginConfig: { OriginProtocolPolicy: 'https-only' } }, 'production: HTTPS');
  t.equal(origin(staging.stack('static-site')).CustomOriginConfig.OriginProtocolPolicy, 'http-only', 'staging: no certificate, plain HTTP');

  const findings = (stacks: RenderedStack[]) => validateStacks(stacks).then((f) => f.filter((x) => x.rule === 'CloudFront.9'));
  t.same(await findings(production.stacks), [], 'production: no finding');
  t.match(await findings(staging.stacks), [{ severity: 'warning', stack: 'static-site', message: /over plain HTTP \(http-only\)/ }], "staging's review names it");

  // Staging given a certificate: HTTPS at once, and the finding goes.
  const certified: Environment = {
    ...staging.inv,
    domain: { aliases: [], apiHostname: 'api.staging.example.com', albCertificateArn: 'arn:aws:acm:eu-west-1:123456789012:certificate/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d' },
  };
  const stacks = renderStacks(certified);
  t.equal(origin(stacks.find((s) => s.name === 'static-site')!).CustomOriginConfig.OriginProtocolPolicy, 'https-only', 'staging with a certificate: HTTPS');
  t.same(await findings(stacks), []);
  t.match(stacks.find((s) => s.name === 'load-balancer')!.template.Resources.Listener!.Properties, { Protocol: 'HTTPS', Port: 443 });
});

t.test("orders' CATALOG_URL and INVENTORY_URL resolve inside the VPC: the internal load balancer", (t) => {
  for (const r of both) {
    const orders = r.stack('service-orders');
    const userData = JSON.stringify(orders.template.Resources.LaunchTemplate);
    t.match(userData, 'CATALOG_URL=${ServiceBaseUrl}');
    t.match(userData, 'INVENTORY_URL=${ServiceBaseUrl}');
    t.same(orders.inputs.ServiceBaseUrl, { from: 'output', stack: 'load-balancer', output: 'ServiceBaseUrl' });

    const lb = r.stack('load-balancer');
    t.same(lb.template.Outputs.ServiceBaseUrl!.Value, { 'Fn::Sub': 'http://${InternalLoadBalancer.DNSName}' }, `${env(r)}: the internal load balancer's name`);
    t.match(lb.template.Resources.InternalLoadBalancer!.Properties, { Scheme: 'internal', Subnets: { Ref: 'PrivateAppSubnetIds' } }, `${env(r)}: internal, in the app subnets`);
    t.same(lb.inputs.PrivateAppSubnetIds, { from: 'output', stack: 'network', output: 'PrivateAppSubnetIds' });
    t.same(ingress(lb.template, 'InternalLoadBalancerSecurityGroup'), [], 'no inline ingress');
    t.match(lb.template.Resources.InternalLoadBalancerIngress!.Properties, {
      GroupId: { 'Fn::GetAtt': ['InternalLoadBalancerSecurityGroup', 'GroupId'] }, FromPort: 80, ToPort: 80,
      SourceSecurityGroupId: { 'Fn::GetAtt': ['ServiceClientSecurityGroup', 'GroupId'] },
    }, `${env(r)}: open only to the service-client group`);
    t.equal(ofType(lb.template, 'AWS::EC2::SecurityGroupIngress').length, 1, 'and nothing else');

    // orders is in the client group; catalog and inventory take requests from the internal load balancer.
    t.match(orders.template.Resources.LaunchTemplate!.Properties!.LaunchTemplateData, { SecurityGroupIds: [{ 'Fn::GetAtt': ['InstanceSecurityGroup', 'GroupId'] }, { Ref: 'ServiceClientSecurityGroupId' }] });
    t.same(orders.inputs.ServiceClientSecurityGroupId, { from: 'output', stack: 'load-balancer', output: 'ServiceClientSecurityGroupId' });
    t.notOk(JSON.stringify(ingress(orders.template, 'InstanceSecurityGroup')).includes('0.0.0.0'), 'orders needs no way out to the internet to reach them');
    t.notOk((orders.template.Resources.InstanceSecurityGroup!.Properties!.SecurityGroupEgress as Rule[]).some((e) => e.FromPort === 80), 'no plain HTTP to the internet');
    for (const callee of ['catalog', 'inventory']) {
      const s = r.stack(`service-${callee}`);
      t.match(ingress(s.template, 'InstanceSecurityGroup'), [{ SourceSecurityGroupId: { Ref: 'LoadBalancerSecurityGroupId' } }, { SourceSecurityGroupId: { Ref: 'InternalLoadBalancerSecurityGroupId' } }]);
      t.same(s.template.Resources.AutoScalingGroup!.Properties!.TargetGroupARNs, [{ Ref: 'TargetGroupArn' }, { Ref: 'InternalTargetGroupArn' }], `${callee} registers on both load balancers`);
      const Callee = callee[0]!.toUpperCase() + callee.slice(1);
      t.same(s.inputs.InternalTargetGroupArn, { from: 'output', stack: 'load-balancer', output: `${Callee}InternalTargetGroupArn` });
      t.match(lb.template.Resources[`${Callee}InternalListenerRule`]!.Properties, {
        ListenerArn: { Ref: 'InternalListener' },
        Conditions: [{ Field: 'path-pattern', PathPatternConfig: { Values: [`/api/${callee}`, `/api/${callee}/*`] } }],
        Actions: [{ Type: 'forward', TargetGroupArn: { Ref: `${Callee}InternalTargetGroup` } }],
      });
    }
  }
  t.end();
});

t.test('Route 53 alias records with domain.hostedZoneId, none without', (t) => {
  for (const r of both) {
    for (const s of r.stacks) t.same(ofType(s.template, 'AWS::Route53::RecordSet'), [], `${env(r)}/${s.name}: no hosted zone, no records`);
  }
  const stacks = renderStacks(withZone);
  const records = (name: string) => ofType(stacks.find((s) => s.name === name)!.template, 'AWS::Route53::RecordSet').map(([, x]) => x.Properties);
  const cloudFront = { DNSName: { 'Fn::GetAtt': ['Distribution', 'DomainName'] }, HostedZoneId: 'Z2FDTNDATAQYW2', EvaluateTargetHealth: false };
  t.same(records('static-site'), withZone.domain!.aliases.flatMap((alias) => ['A', 'AAAA'].map((Type) => ({ HostedZoneId: HOSTED_ZONE, Name: alias, Type, AliasTarget: cloudFront }))), 'every alias → CloudFront, IPv4 and IPv6');
  t.match(records('load-balancer'), [{
    HostedZoneId: HOSTED_ZONE, Name: 'api.shop.example.com', Type: 'A',
    AliasTarget: { DNSName: { 'Fn::GetAtt': ['LoadBalancer', 'DNSName'] }, HostedZoneId: { 'Fn::GetAtt': ['LoadBalancer', 'CanonicalHostedZoneID'] } },
  }], 'the API host name → the public load balancer (CloudFront connects to it by that name)');
  t.end();
});

t.test('templates never hold the origin header value', async (t) => {
  for (const r of both) {
    const text = JSON.stringify(r.stacks.map((s) => s.template));
    t.notMatch(text, /X-Origin-Verify[^{]*"[A-Za-z0-9_-]{43}"/, `${env(r)}: only dynamic references`);
    t.same((await validateStacks(r.stacks)).filter((f) => f.rule === 'W2501'), [], `${env(r)}: the secret-value rule agrees`);
  }
});

// --- issue 18 item 5: the edge takes the read storm, never anything personal ------------------------

interface CacheBehaviour { PathPattern: string; CachePolicyId: unknown; AllowedMethods: string[]; CachedMethods: string[]; OriginRequestPolicyId: unknown }
const distributionConfig = (x: Template) => x.Resources.Distribution!.Properties!.DistributionConfig as unknown as { CacheBehaviors: CacheBehaviour[]; CustomErrorResponses?: Array<{ ErrorCode: number; ErrorCachingMinTTL: number }> };
/** CloudFront's path patterns: `*` any characters (slashes too), `?` one; case-sensitive, the whole path. */
const matches = (pattern: string, path: string): boolean =>
  new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`).test(path);
/** The behaviour CloudFront picks for a path: the first whose pattern matches (the default, assets, otherwise). */
const behaviourFor = (x: Template, path: string): CacheBehaviour | undefined => distributionConfig(x).CacheBehaviors.find((b) => matches(b.PathPattern, path));
const cachePolicyOf = (x: Template, b: CacheBehaviour) => {
  const id = (b.CachePolicyId as { Ref?: string }).Ref;
  return id ? (x.Resources[id]!.Properties!.CachePolicyConfig as Record<string, any>) : undefined;
};

t.test("catalog's public reads are cached at the edge for what Cache-Control allows, keyed on path and the listing's query strings", (t) => {
  for (const r of both) {
    const x = r.stack('static-site').template;
    const order = distributionConfig(x).CacheBehaviors.map((b) => b.PathPattern);
    t.same(order, ['/api/catalog/products/*', '/api/catalog/products', '/api/catalog/categories', '/api/*'], `${env(r)}: the public paths come before /api/*`);
    for (const path of ['/api/catalog/products/SKU-00042', '/api/catalog/products', '/api/catalog/categories']) {
      const b = behaviourFor(x, path)!;
      const policy = cachePolicyOf(x, b);
      t.ok(policy, `${env(r)} ${path}: a cache policy of its own`);
      t.match(policy, { MinTTL: 0, DefaultTTL: 0, MaxTTL: 60 }, `${env(r)} ${path}: kept only as Cache-Control allows (none without it), a minute at most`);
      const key = policy!.ParametersInCacheKeyAndForwardedToOrigin;
      t.same(key.CookiesConfig, { CookieBehavior: 'none' }, `${env(r)} ${path}: no cookies in the key`);
      t.same(key.HeadersConfig, { HeaderBehavior: 'none' }, `${env(r)} ${path}: no headers (Authorization) in the key`);
      t.same(b.CachedMethods, ['GET', 'HEAD'], `${env(r)} ${path}: GET and HEAD answers only`);
    }
    const listing = cachePolicyOf(x, behaviourFor(x, '/api/catalog/products')!)!.ParametersInCacheKeyAndForwardedToOrigin.QueryStringsConfig;
    t.same(listing, { QueryStringBehavior: 'whitelist', QueryStrings: ['category', 'q', 'limit', 'cursor'] }, `${env(r)}: a listing is keyed on what selects its items (schemas.ts ProductListQuery)`);
    const page = cachePolicyOf(x, behaviourFor(x, '/api/catalog/products/SKU-00042')!)!.ParametersInCacheKeyAndForwardedToOrigin.QueryStringsConfig;
    t.same(page, { QueryStringBehavior: 'none' }, `${env(r)}: a product page on its path alone`);
    // An admin's write on the same path passes through, uncached, Authorization and all.
    t.equal(behaviourFor(x, '/api/catalog/products/SKU-00042')!.AllowedMethods.length, 7, `${env(r)}: writes pass through`);
    t.equal(behaviourFor(x, '/api/catalog/products/SKU-00042')!.OriginRequestPolicyId, 'b689b0a8-53d0-40ab-baf2-68738e2966ac', `${env(r)}: every viewer header reaches the origin (Authorization for writes)`);
    // An error for a query string outside the key must not be served to everyone with that key.
    t.same(distributionConfig(x).CustomErrorResponses?.find((e) => e.ErrorCode === 400), { ErrorCode: 400, ErrorCachingMinTTL: 0 }, `${env(r)}: errors are not kept by default`);
  }
  t.end();
});

t.test('nothing personal is ever cached: users, orders, inventory and everything else under /api/* go uncached', (t) => {
  const personal = [
    '/api/users/login', '/api/users/register', '/api/users/me', '/api/users/accounts/7',
    '/api/orders', '/api/orders/0b6f0a2e-4a7e-4a55-9b1d-0f1f0c8a9a11',
    '/api/inventory/stock/SKU-00042', '/api/inventory/reservations',
    '/api/catalog', '/api/catalogue/products', '/api/catalog/products-admin',
  ];
  for (const r of both) {
    const x = r.stack('static-site').template;
    for (const path of personal) t.equal(behaviourFor(x, path)?.CachePolicyId, '4135ea2d-6df8-44a3-9df3-4b5a84be39ad', `${env(r)} ${path}: CachingDisabled`);
    // Only declared public reads have a caching behaviour at all.
    const caching = distributionConfig(x).CacheBehaviors.filter((b) => b.CachePolicyId !== '4135ea2d-6df8-44a3-9df3-4b5a84be39ad').map((b) => b.PathPattern);
    t.ok(caching.every((p) => p.startsWith('/api/catalog/')), `${env(r)}: only catalog paths cache (${caching.join(', ')})`);
  }
  t.end();
});

t.test('the review shows the edge per path', (t) => {
  const rows = edgeBehaviourRows(production.stack('static-site').template);
  t.same(rows.map((row) => `${row[0]} ${row[3]!.startsWith('GET') ? 'cached' : 'not cached'}`), [
    '/api/catalog/products/* cached', '/api/catalog/products cached', '/api/catalog/categories cached', '/api/* not cached', '* cached',
  ]);
  t.match(rows[1], ['/api/catalog/products', 'api', 'all', 'GET, HEAD, as Cache-Control allows', '0/0/60', 'path; query: category, q, limit, cursor; cookies: none; headers: none']);
  t.end();
});
