// Acceptance 4: production and staging are rendered from their inventories and every difference
// between the environments lands in the template where it belongs (and nowhere else).
import t from 'tap';
import { SERVICE_NAMES } from '../../environment/index.js';
import { pascal } from '../../cloudformation/lib/stack.js';
import type { Template } from '../../cloudformation/lib/template.js';
import { ofType, rendered } from './fixtures.js';

const production = await rendered('production');
const staging = await rendered('staging');
const both = [production, staging] as const;
const count = (x: Template, type: string) => ofType(x, type).length;

t.test('the inventories really differ where environments differ', (t) => {
  const p = production.inv;
  const s = staging.inv;
  t.not(p.network.azCount, s.network.azCount, 'AZ count');
  t.not(p.network.natGateways, s.network.natGateways, 'NAT gateways');
  t.not(p.database.instanceClass, s.database.instanceClass, 'database size');
  t.not(p.database.readReplicas, s.database.readReplicas, 'read replicas');
  t.not(p.services.orders.instanceType, s.services.orders.instanceType, 'instance sizes');
  t.not(JSON.stringify(p.saleEvents.map((e) => e.start)), JSON.stringify(s.saleEvents.map((e) => e.start)), 'sale-event schedule');
  t.end();
});

t.test('network: AZ count and NAT gateways', (t) => {
  for (const r of both) {
    const x = r.stack('network').template;
    const azs = r.inv.network.azCount;
    t.equal(count(x, 'AWS::EC2::Subnet'), 3 * azs, `${r.inv.environment}: public, app and db subnet per AZ`);
    const nats = r.inv.network.natGateways === 'per-az' ? azs : 1;
    t.equal(count(x, 'AWS::EC2::NatGateway'), nats, `${r.inv.environment}: ${nats} NAT gateway(s)`);
    t.equal(count(x, 'AWS::EC2::EIP'), nats, `${r.inv.environment}: an Elastic IP per NAT gateway`);
    const routes = ofType(x, 'AWS::EC2::Route').filter(([id]) => id.startsWith('AppDefaultRoute'));
    t.equal(routes.length, azs, `${r.inv.environment}: an app route table per AZ`);
    const targets = new Set(routes.map(([, route]) => JSON.stringify(route.Properties!.NatGatewayId)));
    t.equal(targets.size, nats, `${r.inv.environment}: app subnets route through ${nats === 1 ? 'the one NAT gateway' : 'their own AZ\'s NAT gateway'}`);
    t.equal(x.Resources.Vpc!.Properties!.CidrBlock, r.inv.network.cidr, `${r.inv.environment}: the VPC CIDR`);
    const selects = ofType(x, 'AWS::EC2::Subnet').map(([, s]) => JSON.stringify(s.Properties!.AvailabilityZone));
    t.equal(new Set(selects).size, azs, `${r.inv.environment}: spread over ${azs} AZs from Fn::GetAZs`);
  }
  t.equal(production.stack('network').template.Resources.AppSubnetC?.Type, 'AWS::EC2::Subnet', 'production has a third AZ');
  t.notOk(staging.stack('network').template.Resources.AppSubnetC, 'staging does not');
  t.end();
});

t.test('database: size, backups, protection and replicas', (t) => {
  for (const r of both) {
    const x = r.stack('database').template;
    const db = x.Resources.Database!.Properties!;
    const want = r.inv.database;
    t.equal(db.DBInstanceClass, want.instanceClass, `${r.inv.environment}: instance class`);
    t.equal(db.AllocatedStorage, String(want.allocatedStorage), `${r.inv.environment}: storage`);
    t.equal(db.MaxAllocatedStorage, want.maxAllocatedStorage, `${r.inv.environment}: storage autoscaling`);
    t.equal(db.BackupRetentionPeriod, want.backupRetentionDays, `${r.inv.environment}: backup retention`);
    t.equal(db.DeletionProtection, want.deletionProtection, `${r.inv.environment}: deletion protection`);
    t.equal(db.MultiAZ, true, `${r.inv.environment}: Multi-AZ either way`);
    const replicas = ofType(x, 'AWS::RDS::DBInstance').filter(([, i]) => i.Properties!.SourceDBInstanceIdentifier);
    t.equal(replicas.length, want.readReplicas, `${r.inv.environment}: ${want.readReplicas} read replica(s)`);
    t.equal(Boolean(x.Outputs.ReadReplicaEndpoints), want.readReplicas > 0, `${r.inv.environment}: replica endpoints output`);
    for (const service of SERVICE_NAMES) {
      const svc = r.stack(`service-${service}`);
      t.equal(Boolean(svc.template.Parameters.DbReadHosts), want.readReplicas > 0, `${r.inv.environment}/${service}: DB_READ_HOSTS only with replicas`);
    }
    const monitoring = r.stack('monitoring').template;
    t.equal(Object.keys(monitoring.Resources).filter((id) => /^ReadReplica\dLag$/.test(id)).length, want.readReplicas, `${r.inv.environment}: a lag alarm per replica`);
    t.equal(r.stack('load-balancer').template.Resources.LoadBalancer!.Properties!.LoadBalancerAttributes
      && (r.stack('load-balancer').template.Resources.LoadBalancer!.Properties!.LoadBalancerAttributes as Array<{ Key: string; Value: string }>).find((a) => a.Key === 'deletion_protection.enabled')!.Value,
    String(want.deletionProtection), `${r.inv.environment}: load balancer deletion protection follows the database's`);
  }
  t.end();
});

t.test('services: instance sizes, fleet sizes, scaling targets and Spot', (t) => {
  for (const r of both) {
    for (const service of SERVICE_NAMES) {
      const s = r.inv.services[service];
      const x = r.stack(`service-${service}`).template;
      const where = `${r.inv.environment}/${service}`;
      const asg = x.Resources.AutoScalingGroup!;
      t.match(asg.Properties, { MinSize: String(s.scaling.min), MaxSize: String(s.scaling.max), DesiredCapacity: String(s.scaling.desired), HealthCheckGracePeriod: s.healthCheckGracePeriod, Cooldown: String(s.scaling.cooldownSeconds) }, `${where}: group size`);
      t.equal((asg.CreationPolicy as { ResourceSignal: { Count: number } }).ResourceSignal.Count, s.scaling.desired, `${where}: waits for desired signals`);
      const rolling = (asg.UpdatePolicy as { AutoScalingRollingUpdate: { MinInstancesInService: number } }).AutoScalingRollingUpdate;
      t.ok(rolling.MinInstancesInService >= Math.min(s.scaling.desired, s.scaling.max - 1), `${where}: a rolling update keeps capacity in service`);
      t.equal((x.Resources.LaunchTemplate!.Properties!.LaunchTemplateData as { InstanceType: string }).InstanceType, s.instanceType, `${where}: instance type`);
      t.equal((x.Resources.CpuTargetTracking!.Properties!.TargetTrackingConfiguration as { TargetValue: number }).TargetValue, s.scaling.cpuTarget, `${where}: CPU target`);
      t.equal((x.Resources.RequestCountTargetTracking!.Properties!.TargetTrackingConfiguration as { TargetValue: number }).TargetValue, s.scaling.requestsPerTarget, `${where}: requests per target`);
      t.equal(x.Resources.CpuTargetTracking!.Properties!.EstimatedInstanceWarmup, s.scaling.warmupSeconds, `${where}: warm-up`);
      if (s.spot) {
        const mixed = asg.Properties!.MixedInstancesPolicy as { InstancesDistribution: Record<string, unknown>; LaunchTemplate: { Overrides: Array<{ InstanceType: string }> } };
        t.match(mixed.InstancesDistribution, { OnDemandBaseCapacity: s.spot.onDemandBase, OnDemandPercentageAboveBaseCapacity: s.spot.onDemandPercentageAboveBase }, `${where}: Spot mix`);
        t.same(mixed.LaunchTemplate.Overrides.map((o) => o.InstanceType), s.spot.instanceTypes, `${where}: Spot instance types`);
        t.notOk(asg.Properties!.LaunchTemplate, `${where}: no plain launch template next to the mix`);
      } else {
        t.notOk(asg.Properties!.MixedInstancesPolicy, `${where}: on-demand only`);
        t.ok(asg.Properties!.LaunchTemplate, `${where}: the launch template`);
      }
      t.equal(x.Parameters.ImageId!.Type, 'AWS::EC2::Image::Id', `${where}: an AMI id, not a moving SSM parameter`);
      t.notOk('Default' in x.Parameters.ImageId!, `${where}: no default: the playbook pins it`);
      t.same(r.stack(`service-${service}`).inputs.ImageId, { from: 'image', architecture: 'arm64' }, `${where}: the pinned AL2023 AMI for Graviton (${s.instanceType})`);
    }
  }
  for (const r of both) {
    for (const service of SERVICE_NAMES) t.notOk(r.stack(`service-${service}`).template.Resources.AutoScalingGroup!.Properties!.MixedInstancesPolicy, `${r.inv.environment}/${service}: on-demand (a warm pool cannot go with Spot)`);
  }
  t.end();
});

t.test('sale events: pre-warm before each start, restore at each end, per environment', (t) => {
  for (const r of both) {
    for (const service of SERVICE_NAMES) {
      const x = r.stack(`service-${service}`).template;
      const actions = ofType(x, 'AWS::AutoScaling::ScheduledAction');
      const events = r.inv.saleEvents.filter((e) => e.prewarm[service]);
      t.equal(actions.length, events.length * 2, `${r.inv.environment}/${service}: two actions per event it takes part in`);
      for (const e of events) {
        const prewarm = x.Resources[`Prewarm${pascal(e.name)}`]!.Properties!;
        const lead = (e.leadMinutes ?? 30) * 60_000;
        t.equal(prewarm.StartTime, new Date(Date.parse(e.start) - lead).toISOString().replace('.000Z', 'Z'), `${e.name}: ${lead / 60_000} min before the start`);
        t.match(prewarm, { MinSize: e.prewarm[service]!.min, DesiredCapacity: e.prewarm[service]!.desired }, `${e.name}: pre-warm capacity`);
        const restore = x.Resources[`Restore${pascal(e.name)}`]!.Properties!;
        t.match(restore, { StartTime: e.end, MinSize: r.inv.services[service].scaling.min }, `${e.name}: the floor comes back at the end`);
      }
    }
  }
  const prodActions = Object.keys(production.stack('service-orders').template.Resources).filter((id) => id.startsWith('Prewarm'));
  const stagingActions = Object.keys(staging.stack('service-orders').template.Resources).filter((id) => id.startsWith('Prewarm'));
  t.same(prodActions, ['PrewarmBlackFriday2026', 'PrewarmCyberMonday2026', 'PrewarmSummerSale2027'], 'production: the real events');
  t.same(stagingActions, ['PrewarmBlackFriday2026Rehearsal', 'PrewarmSummerSale2027Rehearsal'], 'staging: the rehearsals');
  t.notOk(Object.keys(production.stack('service-users').template.Resources).includes('PrewarmSummerSale2027'), 'users is not pre-warmed for the summer sale');
  t.end();
});

t.test('edge: HTTPS, certificates, aliases and WAF only where the inventory has a domain', (t) => {
  const prodLb = production.stack('load-balancer').template;
  const stagingLb = staging.stack('load-balancer').template;
  t.match(prodLb.Resources.Listener!.Properties, { Protocol: 'HTTPS', Port: 443, Certificates: [{ CertificateArn: production.inv.domain!.albCertificateArn }] }, 'production: HTTPS listener with its certificate');
  t.notOk(prodLb.Resources.HttpListener, 'production: no HTTP listener (only CloudFront calls, over HTTPS)');
  t.match(stagingLb.Resources.Listener!.Properties, { Protocol: 'HTTP', Port: 80, DefaultActions: [{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '403' } }] }, 'staging: HTTP, 403 without the origin header');
  const ports = (x: Template) => (x.Resources.LoadBalancerSecurityGroup!.Properties!.SecurityGroupIngress as Array<{ FromPort: number }>).map((i) => i.FromPort);
  t.same(ports(prodLb), [443], 'production: 443 open to CloudFront');
  t.same(ports(stagingLb), [80], 'staging: only 80 open to CloudFront');

  const prodCdn = production.stack('static-site').template.Resources.Distribution!.Properties!.DistributionConfig as Record<string, unknown>;
  const stagingCdn = staging.stack('static-site').template.Resources.Distribution!.Properties!.DistributionConfig as Record<string, unknown>;
  t.same(prodCdn.Aliases, production.inv.domain!.aliases, 'production: aliases');
  t.match(prodCdn.ViewerCertificate, { AcmCertificateArn: production.inv.domain!.certificateArn, SslSupportMethod: 'sni-only' }, 'production: ACM certificate');
  t.equal(prodCdn.WebACLId, production.inv.domain!.webAclArn, 'production: WAF');
  t.equal(prodCdn.PriceClass, 'PriceClass_All', 'production: every edge location');
  t.notOk(stagingCdn.Aliases, 'staging: no aliases');
  t.same(stagingCdn.ViewerCertificate, { CloudFrontDefaultCertificate: true }, 'staging: CloudFront certificate');
  t.notOk(stagingCdn.WebACLId, 'staging: no WAF');
  t.equal(stagingCdn.PriceClass, 'PriceClass_100', 'staging: cheapest edge locations');
  const origin = (c: Record<string, unknown>) => (c.Origins as Array<{ Id: string; DomainName: unknown; CustomOriginConfig?: { OriginProtocolPolicy: string } }>).find((o) => o.Id === 'api')!;
  t.match(origin(prodCdn), { DomainName: 'api.shop.example.com', CustomOriginConfig: { OriginProtocolPolicy: 'https-only' } }, 'production: CloudFront to the ALB over HTTPS');
  t.match(origin(stagingCdn), { DomainName: { Ref: 'LoadBalancerDnsName' }, CustomOriginConfig: { OriginProtocolPolicy: 'http-only' } }, 'staging: CloudFront to the ALB DNS name');
  t.ok(staging.stack('static-site').inputs.LoadBalancerDnsName, 'staging: the ALB name comes from the load-balancer stack');
  t.end();
});

t.test('monitoring: email and thresholds from the inventory', (t) => {
  for (const r of both) {
    const x = r.stack('monitoring').template;
    t.equal(Boolean(x.Resources.AlarmEmailSubscription), Boolean(r.inv.monitoring.alarmEmail), `${r.inv.environment}: email subscription only with an address`);
    t.equal(x.Resources.DatabaseCpu!.Properties!.Threshold, r.inv.monitoring.thresholds.rdsCpuPercent, `${r.inv.environment}: RDS CPU threshold`);
    t.equal(x.Resources.OrdersP99Latency!.Properties!.Threshold, r.inv.monitoring.thresholds.targetP99Seconds, `${r.inv.environment}: p99 threshold`);
    t.equal(x.Resources.LoadBalancer5xxRate!.Properties!.Threshold, r.inv.monitoring.thresholds.alb5xxPercent, `${r.inv.environment}: 5xx threshold`);
    for (const service of SERVICE_NAMES) t.ok(x.Resources[`${pascal(service)}AtMaxCapacity`], `${r.inv.environment}: ${service} at-max alarm`);
  }
  t.end();
});

t.test('nothing else differs: outside the environment-driven resources both have the same resources', (t) => {
  // What production may have that staging has not, per stack, and why.
  const productionOnly: Record<string, RegExp> = {
    network: /C(RouteTableAssociation|NetworkAclAssociation)?$|^Nat(Eip|Gateway)[BC]$|^DbNetworkAclIn(102|152|202)$/, // third AZ, NAT per AZ
    database: /^DatabaseReplica\d$/,
    'load-balancer': /^HttpsListener$/,
    monitoring: /^AlarmEmailSubscription$|^ReadReplica\dLag$/,
  };
  const schedule = /^(Prewarm|Restore)/; // each environment's own sale-event calendar
  t.same(staging.stacks.map((x) => x.name), production.stacks.map((x) => x.name), 'the same stacks');
  for (const p of production.stacks) {
    const prodIds = Object.keys(p.template.Resources);
    const stagingIds = Object.keys(staging.stack(p.name).template.Resources);
    const extra = prodIds.filter((id) => !stagingIds.includes(id) && !schedule.test(id));
    const missing = stagingIds.filter((id) => !prodIds.includes(id) && !schedule.test(id));
    t.same(extra.filter((id) => !productionOnly[p.name]?.test(id)), [], `${p.name}: production adds only ${productionOnly[p.name] ?? 'nothing'}`);
    t.same(missing, [], `${p.name}: staging adds nothing but its schedule`);
  }
  t.end();
});
