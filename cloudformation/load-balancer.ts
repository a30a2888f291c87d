// load-balancer: the internet-facing Application Load Balancer in the public subnets. HTTPS with the
// inventory's certificate (HTTP only redirects to it), or plain HTTP when there is none; one target
// group per service, health-checked on /readyz, routed by path prefix, with a deregistration delay
// long enough for an instance to drain.
import { settingsOf, SHOP_SERVICES, type Environment, type ServiceCatalogue } from '../environment/index.js';
import { CIDR, fromOutput, pascal, StackBuilder, subnetList, VPC_ID, type RenderedStack } from './lib/stack.js';
import { getAtt, ref, sub, type Value } from './lib/template.js';

export const SSL_POLICY = 'ELBSecurityPolicy-TLS13-1-2-2021-06';

/** Logical ids of a service's target group, shared with the stacks that read its outputs. */
export const targetGroupId = (service: string) => `${pascal(service)}TargetGroup`;

export function renderLoadBalancer(inv: Environment, services: ServiceCatalogue = SHOP_SERVICES): RenderedStack {
  const certificate = inv.domain?.albCertificateArn;
  const t = new StackBuilder(inv, 'load-balancer',
    `Internet-facing Application Load Balancer (${certificate ? 'HTTPS, HTTP redirects' : 'HTTP'}) with a /readyz-checked target group and a path rule per service.`);
  const vpcId = t.param('VpcId', VPC_ID, fromOutput('network', 'VpcId'));
  const vpcCidr = t.param('VpcCidr', CIDR, fromOutput('network', 'VpcCidr'));
  const subnets = t.param('PublicSubnetIds', subnetList('Public subnets (network stack output PublicSubnetIds)'), fromOutput('network', 'PublicSubnetIds'));

  const listenerPorts = certificate ? [443, 80] : [80];
  const servicePorts = [...new Set(services.map((d) => settingsOf(inv, d.name).port))].sort((a, b) => a - b);
  t.resource('LoadBalancerSecurityGroup', {
    Type: 'AWS::EC2::SecurityGroup',
    Properties: {
      GroupDescription: `Load balancer: ${listenerPorts.join(' and ')} from anywhere; out only to the service ports in the VPC`,
      VpcId: vpcId,
      SecurityGroupIngress: listenerPorts.map((port) => ({ IpProtocol: 'tcp', FromPort: port, ToPort: port, CidrIp: '0.0.0.0/0', Description: `${port === 443 ? 'HTTPS' : 'HTTP'} from the internet` })),
      SecurityGroupEgress: servicePorts.map((port) => ({ IpProtocol: 'tcp', FromPort: port, ToPort: port, CidrIp: vpcCidr, Description: `To service instances on ${port}` })),
      Tags: t.tags({ Name: t.prefixed('alb') }),
    },
  });

  t.resource('LoadBalancer', {
    Type: 'AWS::ElasticLoadBalancingV2::LoadBalancer',
    Properties: {
      Type: 'application',
      Scheme: 'internet-facing',
      IpAddressType: 'ipv4',
      Subnets: subnets,
      SecurityGroups: [getAtt('LoadBalancerSecurityGroup', 'GroupId')],
      LoadBalancerAttributes: [
        { Key: 'routing.http.drop_invalid_header_fields.enabled', Value: 'true' },
        { Key: 'routing.http.desync_mitigation_mode', Value: 'defensive' },
        { Key: 'idle_timeout.timeout_seconds', Value: '60' },
        { Key: 'deletion_protection.enabled', Value: String(inv.database.deletionProtection) },
      ],
      Tags: t.tags({ Name: t.prefixed('alb') }),
    },
  });

  for (const { name: service } of services) {
    const s = settingsOf(inv, service);
    t.resource(targetGroupId(service), {
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
    });
  }

  const notFound: Value = {
    Type: 'fixed-response',
    FixedResponseConfig: { StatusCode: '404', ContentType: 'application/json', MessageBody: '{"code":"NOT_FOUND","message":"no service serves this path"}' },
  };
  if (certificate) {
    t.resource('HttpsListener', {
      Type: 'AWS::ElasticLoadBalancingV2::Listener',
      Properties: {
        LoadBalancerArn: ref('LoadBalancer'),
        Protocol: 'HTTPS',
        Port: 443,
        SslPolicy: SSL_POLICY,
        Certificates: [{ CertificateArn: certificate }],
        DefaultActions: [notFound],
        Tags: t.tags(),
      },
    });
    t.resource('HttpListener', {
      Type: 'AWS::ElasticLoadBalancingV2::Listener',
      Properties: {
        LoadBalancerArn: ref('LoadBalancer'),
        Protocol: 'HTTP',
        Port: 80,
        DefaultActions: [{ Type: 'redirect', RedirectConfig: { Protocol: 'HTTPS', Port: '443', StatusCode: 'HTTP_301' } }],
        Tags: t.tags(),
      },
    });
  } else {
    t.resource('HttpListener', {
      Type: 'AWS::ElasticLoadBalancingV2::Listener',
      Properties: { LoadBalancerArn: ref('LoadBalancer'), Protocol: 'HTTP', Port: 80, DefaultActions: [notFound], Tags: t.tags() },
    });
  }
  const listener = certificate ? 'HttpsListener' : 'HttpListener';
  services.forEach(({ name: service }, i) => {
    const prefix = settingsOf(inv, service).pathPrefix;
    t.resource(`${pascal(service)}ListenerRule`, {
      Type: 'AWS::ElasticLoadBalancingV2::ListenerRule',
      Properties: {
        ListenerArn: ref(listener),
        Priority: (i + 1) * 10,
        Conditions: [{ Field: 'path-pattern', PathPatternConfig: { Values: [prefix, `${prefix}/*`] } }],
        Actions: [{ Type: 'forward', TargetGroupArn: ref(targetGroupId(service)) }],
        Tags: t.tags(),
      },
    });
  });

  const apiHost = inv.domain?.apiHostname;
  t.output('LoadBalancerDnsName', 'The load balancer DNS name', getAtt('LoadBalancer', 'DNSName'));
  t.output('LoadBalancerCanonicalHostedZoneId', 'The hosted zone of the load balancer (for an alias record)', getAtt('LoadBalancer', 'CanonicalHostedZoneID'));
  t.output('LoadBalancerArn', 'The load balancer ARN', ref('LoadBalancer'));
  t.output('LoadBalancerFullName', 'app/<name>/<id>, the CloudWatch dimension', getAtt('LoadBalancer', 'LoadBalancerFullName'));
  t.output('LoadBalancerSecurityGroupId', 'The load balancer security group (service instances accept only it)', getAtt('LoadBalancerSecurityGroup', 'GroupId'));
  t.output('ServiceBaseUrl', 'Where services reach each other (orders calls catalog and inventory here)',
    certificate && apiHost ? `https://${apiHost}` : sub('http://${LoadBalancer.DNSName}'));
  for (const { name: service } of services) {
    t.output(`${pascal(service)}TargetGroupArn`, `The ${service} target group`, ref(targetGroupId(service)));
    t.output(`${pascal(service)}TargetGroupFullName`, `targetgroup/<name>/<id> of ${service}, the CloudWatch dimension`, getAtt(targetGroupId(service), 'TargetGroupFullName'));
  }
  return t.build();
}
