// load-balancer: the Application Load Balancers. The public one, in the public subnets, takes
// requests only from CloudFront: its security group admits the CloudFront origin-facing prefix list
// alone, on the one port CloudFront uses (HTTPS with the inventory's certificate, HTTP without), and
// its listener forwards only requests that carry the secret origin header (403 otherwise). The
// internal one, in the private-app subnets, is how services call each other inside the VPC: it
// admits only instances in the service-client security group. Each has a target group per service,
// health-checked on /readyz, routed by path prefix, with a deregistration delay long enough for an
// instance to drain. With domain.hostedZoneId the API host name gets its alias record here.
import { settingsOf, SHOP_SERVICES, type Environment, type ServiceCatalogue } from '../environment/index.js';
import { CIDR, fromOutput, pascal, StackBuilder, stackOutputs, subnetList, VPC_ID, type OutputRef, type RenderedStack } from './lib/stack.js';
import { NETWORK } from './network.js';
import { ORIGIN_HEADER_NAME, originHeadersAccepted } from './lib/origin-header.js';
import { getAtt, ref, sub, type Resource, type Value } from './lib/template.js';

export const SSL_POLICY = 'ELBSecurityPolicy-TLS13-1-2-2021-06';
/** The AWS-managed prefix list of CloudFront's origin-facing addresses (its id differs per region). */
export const CLOUDFRONT_ORIGIN_PREFIX_LIST = 'com.amazonaws.global.cloudfront.origin-facing';
/** The internal load balancer's port: plain HTTP, inside the VPC, between security groups only. */
export const INTERNAL_PORT = 80;

/** The outputs other stacks and the deploy play take. */
export const LOAD_BALANCER = stackOutputs('load-balancer', [
  'LoadBalancerDnsName', 'LoadBalancerFullName', 'LoadBalancerSecurityGroupId', 'ServiceBaseUrl',
  'InternalLoadBalancerSecurityGroupId', 'ServiceClientSecurityGroupId',
]);
/** A service's target group: its ARN (instances register there) and its CloudWatch dimension. */
export const targetGroupArn = (service: string): OutputRef => fromOutput(LOAD_BALANCER.ServiceBaseUrl.stack, `${targetGroupId(service)}Arn`);
export const targetGroupFullName = (service: string): OutputRef => fromOutput(LOAD_BALANCER.ServiceBaseUrl.stack, `${targetGroupId(service)}FullName`);
/** A service's target group on the internal load balancer (where other services reach it). */
export const internalTargetGroupArn = (service: string): OutputRef => fromOutput(LOAD_BALANCER.ServiceBaseUrl.stack, `${internalTargetGroupId(service)}Arn`);

/** The logical id of a service's target group. */
const targetGroupId = (service: string) => `${pascal(service)}TargetGroup`;
const internalTargetGroupId = (service: string) => `${pascal(service)}InternalTargetGroup`;

export function renderLoadBalancer(inv: Environment, services: ServiceCatalogue = SHOP_SERVICES): RenderedStack {
  const certificate = inv.domain?.albCertificateArn;
  const t = new StackBuilder(inv, LOAD_BALANCER.ServiceBaseUrl.stack,
    `Application Load Balancers: a public one that serves only CloudFront (${certificate ? 'HTTPS' : 'HTTP'}, origin header required) ` +
    'and an internal one for calls between services, each with a /readyz-checked target group and a path rule per service.');
  const vpcId = t.param('VpcId', VPC_ID, NETWORK.VpcId);
  const vpcCidr = t.param('VpcCidr', CIDR, NETWORK.VpcCidr);
  const subnets = t.param('PublicSubnetIds', subnetList('Public subnets (network stack output PublicSubnetIds)'), NETWORK.PublicSubnetIds);
  const appSubnets = t.param('PrivateAppSubnetIds', subnetList('Private-app subnets, for the internal load balancer (network stack output PrivateAppSubnetIds)'), NETWORK.PrivateAppSubnetIds);
  const cloudFront = t.param('CloudFrontPrefixListId', {
    Type: 'String',
    Description: `The ${CLOUDFRONT_ORIGIN_PREFIX_LIST} managed prefix list of this region (looked up by the playbook)`,
    AllowedPattern: '^pl-[0-9a-f]{8,17}$',
    ConstraintDescription: 'a managed prefix list id (pl-...)',
  }, { from: 'lookup', lookup: 'cloudfront-origin-prefix-list' });
  const acceptedHeaders = originHeadersAccepted(t);

  // One port only: CloudFront reaches the origin on the port its origin protocol says, and a
  // prefix-list rule counts as many rules as the list has entries against the group's quota.
  const port = certificate ? 443 : 80;
  const servicePorts = [...new Set(services.map((d) => settingsOf(inv, d.name).port))].sort((a, b) => a - b);
  const toServices = servicePorts.map((p) => ({ IpProtocol: 'tcp', FromPort: p, ToPort: p, CidrIp: vpcCidr, Description: `To service instances on ${p}` }));
  t.resource('LoadBalancerSecurityGroup', {
    Type: 'AWS::EC2::SecurityGroup',
    Properties: {
      GroupDescription: `Public load balancer: ${port} from the CloudFront origin-facing addresses only; out only to the service ports in the VPC`,
      VpcId: vpcId,
      SecurityGroupIngress: [{ IpProtocol: 'tcp', FromPort: port, ToPort: port, SourcePrefixListId: cloudFront, Description: `${port === 443 ? 'HTTPS' : 'HTTP'} from CloudFront only` }],
      SecurityGroupEgress: toServices,
      Tags: t.tags({ Name: t.prefixed('alb') }),
    },
  });

  const attributes = (): Value => [
    { Key: 'routing.http.drop_invalid_header_fields.enabled', Value: 'true' },
    { Key: 'routing.http.desync_mitigation_mode', Value: 'defensive' },
    // Appends the address it received from (CloudFront's edge) to X-Forwarded-For: the services'
    // TRUSTED_PROXY_HOPS counts on it (environment/proxy-hops.ts).
    { Key: 'routing.http.xff_header_processing.mode', Value: 'append' },
    { Key: 'idle_timeout.timeout_seconds', Value: '60' },
    { Key: 'deletion_protection.enabled', Value: String(inv.database.deletionProtection) },
  ];
  t.resource('LoadBalancer', {
    Type: 'AWS::ElasticLoadBalancingV2::LoadBalancer',
    Properties: {
      Type: 'application',
      Scheme: 'internet-facing',
      IpAddressType: 'ipv4',
      Subnets: subnets,
      SecurityGroups: [getAtt('LoadBalancerSecurityGroup', 'GroupId')],
      LoadBalancerAttributes: attributes(),
      Tags: t.tags({ Name: t.prefixed('alb') }),
    },
  });

  // --- east-west: the internal load balancer, open only to instances of the service-client group ---
  t.resource('ServiceClientSecurityGroup', {
    Type: 'AWS::EC2::SecurityGroup',
    Properties: {
      GroupDescription: 'Service instances that call other services: may reach the internal load balancer',
      VpcId: vpcId,
      SecurityGroupEgress: [{ IpProtocol: 'tcp', FromPort: INTERNAL_PORT, ToPort: INTERNAL_PORT, DestinationSecurityGroupId: getAtt('InternalLoadBalancerSecurityGroup', 'GroupId'), Description: 'To the internal load balancer' }],
      Tags: t.tags({ Name: t.prefixed('service-client') }),
    },
  });
  t.resource('InternalLoadBalancerSecurityGroup', {
    Type: 'AWS::EC2::SecurityGroup',
    Properties: {
      GroupDescription: `Internal load balancer: ${INTERNAL_PORT} from service-client instances only; out only to the service ports in the VPC`,
      VpcId: vpcId,
      SecurityGroupEgress: toServices,
      Tags: t.tags({ Name: t.prefixed('internal-alb') }),
    },
  });
  // Its own resource: the two groups name each other.
  t.resource('InternalLoadBalancerIngress', {
    Type: 'AWS::EC2::SecurityGroupIngress',
    Properties: {
      GroupId: getAtt('InternalLoadBalancerSecurityGroup', 'GroupId'),
      IpProtocol: 'tcp',
      FromPort: INTERNAL_PORT,
      ToPort: INTERNAL_PORT,
      SourceSecurityGroupId: getAtt('ServiceClientSecurityGroup', 'GroupId'),
      Description: 'From service-client instances',
    },
  });
  t.resource('InternalLoadBalancer', {
    Type: 'AWS::ElasticLoadBalancingV2::LoadBalancer',
    Properties: {
      Type: 'application',
      Scheme: 'internal',
      IpAddressType: 'ipv4',
      Subnets: appSubnets,
      SecurityGroups: [getAtt('InternalLoadBalancerSecurityGroup', 'GroupId')],
      LoadBalancerAttributes: attributes(),
      Tags: t.tags({ Name: t.prefixed('internal-alb') }),
    },
  });

  const targetGroup = (service: string): Resource => {
    const s = settingsOf(inv, service);
    return {
      Type: 'AWS::ElasticLoadBalancingV2::TargetGroup',
      Properties: {
        TargetType: 'instance',
        Protocol: 'HTTP',
        Port: s.port,
        VpcId: vpcId,
        HealthCheckEnabled: true,
        HealthCheckProtocol: 'HTTP',
        HealthCheckPath: '/readyz',
        HealthCheckIntervalSeconds: 10,
        HealthCheckTimeoutSeconds: 5,
        HealthyThresholdCount: 2,
        UnhealthyThresholdCount: 3,
        Matcher: { HttpCode: '200' },
        TargetGroupAttributes: [
          // SIGTERM drains in-flight requests; the load balancer waits as long before it forgets the target.
          { Key: 'deregistration_delay.timeout_seconds', Value: String(s.drainSeconds) },
          { Key: 'load_balancing.algorithm.type', Value: 'least_outstanding_requests' },
        ],
        Tags: t.tags({ Name: t.prefixed(service) }),
      },
    };
  };
  // A target group serves one load balancer, so each service has one on each.
  for (const { name: service } of services) {
    t.resource(targetGroupId(service), targetGroup(service));
    t.resource(internalTargetGroupId(service), targetGroup(service));
  }

  const fixed = (status: '403' | '404', code: string, message: string): Value => ({
    Type: 'fixed-response',
    FixedResponseConfig: { StatusCode: status, ContentType: 'application/json', MessageBody: JSON.stringify({ code, message }) },
  });
  const forbidden = fixed('403', 'FORBIDDEN', 'this load balancer serves CloudFront only');
  const notFound = fixed('404', 'NOT_FOUND', 'no service serves this path');
  t.resource('Listener', {
    Type: 'AWS::ElasticLoadBalancingV2::Listener',
    Properties: {
      LoadBalancerArn: ref('LoadBalancer'),
      ...(certificate
        ? { Protocol: 'HTTPS', Port: 443, SslPolicy: SSL_POLICY, Certificates: [{ CertificateArn: certificate }] }
        : { Protocol: 'HTTP', Port: 80 }),
      // Only requests with the origin header reach a rule that forwards; anything else is refused.
      DefaultActions: [forbidden],
      Tags: t.tags(),
    },
  });
  t.resource('InternalListener', {
    Type: 'AWS::ElasticLoadBalancingV2::Listener',
    Properties: { LoadBalancerArn: ref('InternalLoadBalancer'), Protocol: 'HTTP', Port: INTERNAL_PORT, DefaultActions: [notFound], Tags: t.tags() },
  });
  const originHeader: Value = { Field: 'http-header', HttpHeaderConfig: { HttpHeaderName: ORIGIN_HEADER_NAME, Values: acceptedHeaders } };
  services.forEach(({ name: service }, i) => {
    const prefix = settingsOf(inv, service).pathPrefix;
    const path: Value = { Field: 'path-pattern', PathPatternConfig: { Values: [prefix, `${prefix}/*`] } };
    t.resource(`${pascal(service)}ListenerRule`, {
      Type: 'AWS::ElasticLoadBalancingV2::ListenerRule',
      Properties: {
        ListenerArn: ref('Listener'),
        Priority: (i + 1) * 10,
        Conditions: [path, originHeader],
        Actions: [{ Type: 'forward', TargetGroupArn: ref(targetGroupId(service)) }],
        Tags: t.tags(),
      },
    });
    t.resource(`${pascal(service)}InternalListenerRule`, {
      Type: 'AWS::ElasticLoadBalancingV2::ListenerRule',
      Properties: {
        ListenerArn: ref('InternalListener'),
        Priority: (i + 1) * 10,
        Conditions: [path],
        Actions: [{ Type: 'forward', TargetGroupArn: ref(internalTargetGroupId(service)) }],
        Tags: t.tags(),
      },
    });
  });
  // CloudFront asking for a path no service serves gets the 404 it always got.
  t.resource('NotFoundListenerRule', {
    Type: 'AWS::ElasticLoadBalancingV2::ListenerRule',
    Properties: {
      ListenerArn: ref('Listener'),
      Priority: (services.length + 1) * 10,
      Conditions: [originHeader],
      Actions: [notFound],
      Tags: t.tags(),
    },
  });

  const apiHost = inv.domain?.apiHostname;
  const zone = inv.domain?.hostedZoneId;
  if (apiHost && zone) {
    t.resource('ApiRecord', {
      Type: 'AWS::Route53::RecordSet',
      Properties: {
        HostedZoneId: zone,
        Name: apiHost,
        Type: 'A',
        Comment: 'CloudFront reaches the public load balancer by this name (the one on its certificate)',
        AliasTarget: { DNSName: getAtt('LoadBalancer', 'DNSName'), HostedZoneId: getAtt('LoadBalancer', 'CanonicalHostedZoneID'), EvaluateTargetHealth: false },
      },
    });
  }

  t.output(LOAD_BALANCER.LoadBalancerDnsName, 'The public load balancer DNS name (only CloudFront gets through)', getAtt('LoadBalancer', 'DNSName'));
  t.output('LoadBalancerCanonicalHostedZoneId', 'The hosted zone of the load balancer (for an alias record)', getAtt('LoadBalancer', 'CanonicalHostedZoneID'));
  t.output('LoadBalancerArn', 'The load balancer ARN', ref('LoadBalancer'));
  t.output(LOAD_BALANCER.LoadBalancerFullName, 'app/<name>/<id>, the CloudWatch dimension', getAtt('LoadBalancer', 'LoadBalancerFullName'));
  t.output(LOAD_BALANCER.LoadBalancerSecurityGroupId, 'The public load balancer security group (service instances accept it)', getAtt('LoadBalancerSecurityGroup', 'GroupId'));
  t.output(LOAD_BALANCER.InternalLoadBalancerSecurityGroupId, 'The internal load balancer security group (service instances accept it)', getAtt('InternalLoadBalancerSecurityGroup', 'GroupId'));
  t.output(LOAD_BALANCER.ServiceClientSecurityGroupId, 'The group of instances that may call the internal load balancer', getAtt('ServiceClientSecurityGroup', 'GroupId'));
  t.output(LOAD_BALANCER.ServiceBaseUrl, 'Where services reach each other (orders calls catalog and inventory here): the internal load balancer, inside the VPC',
    sub(`http://\${InternalLoadBalancer.DNSName}`));
  for (const { name: service } of services) {
    t.output(targetGroupArn(service), `The ${service} target group`, ref(targetGroupId(service)));
    t.output(targetGroupFullName(service), `targetgroup/<name>/<id> of ${service}, the CloudWatch dimension`, getAtt(targetGroupId(service), 'TargetGroupFullName'));
    t.output(internalTargetGroupArn(service), `The ${service} target group on the internal load balancer`, ref(internalTargetGroupId(service)));
  }
  return t.build();
}
