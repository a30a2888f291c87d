// network: the VPC every other stack lives in. Public, private-app and private-db subnets in 2 or 3
// Availability Zones; NAT gateways per AZ or one for all; network ACLs per tier; S3 (gateway) and
// Secrets Manager (interface) endpoints so instances fetch artifacts and secrets without NAT; VPC
// flow logs to CloudWatch Logs.
import type { Environment } from '../environment/index.js';
import { subnetBlock } from './lib/cidr.js';
import { StackBuilder, stackOutputs, type RenderedStack } from './lib/stack.js';
import { getAZs, getAtt, join, ref, select, sub, type Expr } from './lib/template.js';

/** What the private-db tier serves the private-app tier, and its NACL admits: MySQL and the shared cache. */
export const DATA_TIER_PORTS = { mysql: 3306, cache: 6379 } as const;

/** The outputs other stacks take. */
export const NETWORK = stackOutputs('network', ['VpcId', 'VpcCidr', 'PublicSubnetIds', 'PrivateAppSubnetIds', 'PrivateDbSubnetIds']);

const TIERS = ['public', 'app', 'db'] as const;
type Tier = (typeof TIERS)[number];
const TIER_NAME: Record<Tier, string> = { public: 'Public', app: 'App', db: 'Db' };
const AZ_LETTERS = ['A', 'B', 'C'] as const;

export function renderNetwork(inv: Environment): RenderedStack {
  const { azCount, natGateways, cidr } = inv.network;
  const t = new StackBuilder(inv, NETWORK.VpcId.stack,
    `VPC ${cidr} over ${azCount} Availability Zones with public, private-app and private-db subnets, ` +
    `${natGateways === 'per-az' ? 'a NAT gateway per AZ' : 'one shared NAT gateway'}, network ACLs, S3 and Secrets Manager endpoints and flow logs.`);
  const azs = AZ_LETTERS.slice(0, azCount);
  const prefix = Number(cidr.split('/')[1]) + 4; // 16 equal blocks: public 0-2, app 4-6, db 8-10
  const block = (tier: Tier, i: number) => subnetBlock(cidr, prefix, TIERS.indexOf(tier) * 4 + i);
  const name = (suffix: string) => ({ Name: t.prefixed(suffix) });

  t.resource('Vpc', {
    Type: 'AWS::EC2::VPC',
    Properties: { CidrBlock: cidr, EnableDnsSupport: true, EnableDnsHostnames: true, Tags: t.tags(name('vpc')) },
  });
  t.resource('InternetGateway', { Type: 'AWS::EC2::InternetGateway', Properties: { Tags: t.tags(name('igw')) } });
  t.resource('InternetGatewayAttachment', {
    Type: 'AWS::EC2::VPCGatewayAttachment',
    Properties: { VpcId: ref('Vpc'), InternetGatewayId: ref('InternetGateway') },
  });

  // Subnets: one per tier and AZ. Nothing gets a public IP by default; the ALB and NAT gateways
  // have their own addresses.
  const subnetId = (tier: Tier, az: string) => `${TIER_NAME[tier]}Subnet${az}`;
  for (const tier of TIERS) {
    azs.forEach((az, i) => {
      t.resource(subnetId(tier, az), {
        Type: 'AWS::EC2::Subnet',
        Properties: {
          VpcId: ref('Vpc'),
          CidrBlock: block(tier, i),
          AvailabilityZone: select(i, getAZs()),
          MapPublicIpOnLaunch: false,
          Tags: t.tags({ ...name(`${tier}-${az.toLowerCase()}`), Tier: tier }),
        },
      });
    });
  }

  // Public route table: default route to the internet gateway.
  t.resource('PublicRouteTable', { Type: 'AWS::EC2::RouteTable', Properties: { VpcId: ref('Vpc'), Tags: t.tags(name('public')) } });
  t.resource('PublicDefaultRoute', {
    Type: 'AWS::EC2::Route',
    DependsOn: 'InternetGatewayAttachment',
    Properties: { RouteTableId: ref('PublicRouteTable'), DestinationCidrBlock: '0.0.0.0/0', GatewayId: ref('InternetGateway') },
  });
  for (const az of azs) {
    t.resource(`PublicSubnet${az}RouteTableAssociation`, {
      Type: 'AWS::EC2::SubnetRouteTableAssociation',
      Properties: { SubnetId: ref(subnetId('public', az)), RouteTableId: ref('PublicRouteTable') },
    });
  }

  // NAT gateways: one per AZ (an AZ outage never cuts the others off) or a single one (cost).
  const natAzs = natGateways === 'per-az' ? azs : azs.slice(0, 1);
  for (const az of natAzs) {
    t.resource(`NatEip${az}`, {
      Type: 'AWS::EC2::EIP',
      DependsOn: 'InternetGatewayAttachment',
      Properties: { Domain: 'vpc', Tags: t.tags(name(`nat-${az.toLowerCase()}`)) },
    });
    t.resource(`NatGateway${az}`, {
      Type: 'AWS::EC2::NatGateway',
      Properties: {
        AllocationId: getAtt(`NatEip${az}`, 'AllocationId'),
        SubnetId: ref(subnetId('public', az)),
        Tags: t.tags(name(`nat-${az.toLowerCase()}`)),
      },
    });
  }

  // Private-app route tables: one per AZ, default route to that AZ's NAT (or the only one).
  for (const az of azs) {
    const nat = natGateways === 'per-az' ? az : natAzs[0]!;
    t.resource(`AppRouteTable${az}`, { Type: 'AWS::EC2::RouteTable', Properties: { VpcId: ref('Vpc'), Tags: t.tags(name(`app-${az.toLowerCase()}`)) } });
    t.resource(`AppDefaultRoute${az}`, {
      Type: 'AWS::EC2::Route',
      Properties: { RouteTableId: ref(`AppRouteTable${az}`), DestinationCidrBlock: '0.0.0.0/0', NatGatewayId: ref(`NatGateway${nat}`) },
    });
    t.resource(`AppSubnet${az}RouteTableAssociation`, {
      Type: 'AWS::EC2::SubnetRouteTableAssociation',
      Properties: { SubnetId: ref(subnetId('app', az)), RouteTableId: ref(`AppRouteTable${az}`) },
    });
  }

  // Private-db route table: no route out of the VPC at all.
  t.resource('DbRouteTable', { Type: 'AWS::EC2::RouteTable', Properties: { VpcId: ref('Vpc'), Tags: t.tags(name('db')) } });
  for (const az of azs) {
    t.resource(`DbSubnet${az}RouteTableAssociation`, {
      Type: 'AWS::EC2::SubnetRouteTableAssociation',
      Properties: { SubnetId: ref(subnetId('db', az)), RouteTableId: ref('DbRouteTable') },
    });
  }

  // Network ACLs, stateless, so return traffic needs the ephemeral range explicitly.
  const appBlocks = azs.map((_, i) => block('app', i));
  const dbBlocks = azs.map((_, i) => block('db', i));
  const nacl = (tier: Tier, entries: NaclEntry[]) => {
    const id = `${TIER_NAME[tier]}NetworkAcl`;
    t.resource(id, { Type: 'AWS::EC2::NetworkAcl', Properties: { VpcId: ref('Vpc'), Tags: t.tags(name(tier)) } });
    for (const e of entries) {
      t.resource(`${id}${e.egress ? 'Out' : 'In'}${e.rule}`, {
        Type: 'AWS::EC2::NetworkAclEntry',
        Properties: {
          NetworkAclId: ref(id),
          RuleNumber: e.rule,
          Egress: e.egress,
          Protocol: e.ports ? 6 : -1,
          RuleAction: 'allow',
          CidrBlock: e.cidr,
          ...(e.ports ? { PortRange: { From: e.ports[0], To: e.ports[1] } } : {}),
        },
      });
    }
    for (const az of azs) {
      t.resource(`${TIER_NAME[tier]}Subnet${az}NetworkAclAssociation`, {
        Type: 'AWS::EC2::SubnetNetworkAclAssociation',
        Properties: { SubnetId: ref(subnetId(tier, az)), NetworkAclId: ref(id) },
      });
    }
  };
  nacl('public', [
    { rule: 100, egress: false, cidr: '0.0.0.0/0', ports: [443, 443] },
    { rule: 110, egress: false, cidr: '0.0.0.0/0', ports: [80, 80] },
    { rule: 120, egress: false, cidr: '0.0.0.0/0', ports: [1024, 65535] },
    { rule: 130, egress: false, cidr }, // instances going out through the NAT gateways
    { rule: 100, egress: true, cidr: '0.0.0.0/0' },
  ]);
  nacl('app', [
    { rule: 100, egress: false, cidr },
    { rule: 110, egress: false, cidr: '0.0.0.0/0', ports: [1024, 65535] },
    { rule: 100, egress: true, cidr: '0.0.0.0/0' },
  ]);
  nacl('db', [
    ...appBlocks.map((b, i): NaclEntry => ({ rule: 100 + i, egress: false, cidr: b, ports: [DATA_TIER_PORTS.mysql, DATA_TIER_PORTS.mysql] })),
    ...appBlocks.map((b, i): NaclEntry => ({ rule: 150 + i, egress: false, cidr: b, ports: [DATA_TIER_PORTS.cache, DATA_TIER_PORTS.cache] })),
    ...dbBlocks.map((b, i): NaclEntry => ({ rule: 200 + i, egress: false, cidr: b })), // Multi-AZ and replica traffic
    { rule: 100, egress: true, cidr },
  ]);

  // Endpoints: artifacts from S3 and secrets from Secrets Manager stay inside the VPC.
  t.resource('S3GatewayEndpoint', {
    Type: 'AWS::EC2::VPCEndpoint',
    Properties: {
      VpcId: ref('Vpc'),
      VpcEndpointType: 'Gateway',
      ServiceName: sub('com.amazonaws.${AWS::Region}.s3'),
      RouteTableIds: azs.map((az) => ref(`AppRouteTable${az}`)),
      Tags: t.tags(name('s3')),
    },
  });
  t.resource('EndpointSecurityGroup', {
    Type: 'AWS::EC2::SecurityGroup',
    Properties: {
      GroupDescription: 'Interface endpoints: HTTPS from inside the VPC only',
      VpcId: ref('Vpc'),
      SecurityGroupIngress: [{ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, CidrIp: cidr, Description: 'HTTPS from the VPC' }],
      SecurityGroupEgress: [{ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, CidrIp: cidr, Description: 'Replies stay in the VPC' }],
      Tags: t.tags(name('endpoints')),
    },
  });
  t.resource('SecretsManagerEndpoint', {
    Type: 'AWS::EC2::VPCEndpoint',
    Properties: {
      VpcId: ref('Vpc'),
      VpcEndpointType: 'Interface',
      ServiceName: sub('com.amazonaws.${AWS::Region}.secretsmanager'),
      PrivateDnsEnabled: true,
      SubnetIds: azs.map((az) => ref(subnetId('app', az))),
      SecurityGroupIds: [getAtt('EndpointSecurityGroup', 'GroupId')],
      Tags: t.tags(name('secretsmanager')),
    },
  });

  // Flow logs: every accepted and rejected connection, kept for the inventory's retention.
  t.resource('FlowLogGroup', {
    Type: 'AWS::Logs::LogGroup',
    DeletionPolicy: 'Retain',
    UpdateReplacePolicy: 'Retain',
    Properties: { RetentionInDays: inv.monitoring.logRetentionDays, Tags: t.tags() },
  });
  t.resource('FlowLogRole', {
    Type: 'AWS::IAM::Role',
    Properties: {
      Description: 'Lets VPC flow logs write to their log group',
      AssumeRolePolicyDocument: {
        Version: '2012-10-17',
        Statement: [{
          Effect: 'Allow',
          Principal: { Service: 'vpc-flow-logs.amazonaws.com' },
          Action: 'sts:AssumeRole',
          Condition: { StringEquals: { 'aws:SourceAccount': ref('AWS::AccountId') } },
        }],
      },
      Policies: [{
        PolicyName: 'write-flow-logs',
        PolicyDocument: {
          Version: '2012-10-17',
          Statement: [{
            Effect: 'Allow',
            Action: ['logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogGroups', 'logs:DescribeLogStreams'],
            Resource: getAtt('FlowLogGroup', 'Arn'),
          }],
        },
      }],
      Tags: t.tags(),
    },
  });
  t.resource('FlowLog', {
    Type: 'AWS::EC2::FlowLog',
    Properties: {
      ResourceType: 'VPC',
      ResourceId: ref('Vpc'),
      TrafficType: 'ALL',
      LogDestinationType: 'cloud-watch-logs',
      LogGroupName: ref('FlowLogGroup'),
      DeliverLogsPermissionArn: getAtt('FlowLogRole', 'Arn'),
      MaxAggregationInterval: 60,
      Tags: t.tags(name('flow-log')),
    },
  });

  const list = (tier: Tier): Expr => join(',', azs.map((az) => ref(subnetId(tier, az))));
  t.output(NETWORK.VpcId, 'The VPC id', ref('Vpc'));
  t.output(NETWORK.VpcCidr, 'The VPC CIDR block', getAtt('Vpc', 'CidrBlock'));
  t.output(NETWORK.PublicSubnetIds, 'Public subnets (load balancer, NAT gateways), comma-separated', list('public'));
  t.output(NETWORK.PrivateAppSubnetIds, 'Private-app subnets (service instances), comma-separated', list('app'));
  t.output(NETWORK.PrivateDbSubnetIds, 'Private-db subnets (RDS), comma-separated', list('db'));
  t.output('AvailabilityZones', 'The Availability Zones used, comma-separated', join(',', azs.map((_, i) => select(i, getAZs()))));
  t.output('FlowLogGroupName', 'Where VPC flow logs go', ref('FlowLogGroup'));
  return t.build();
}

interface NaclEntry {
  rule: number;
  egress: boolean;
  cidr: string;
  /** TCP port range; omitted means all protocols. */
  ports?: [number, number];
}

