// cache: the shop's shared cache, an ElastiCache replication group (Valkey or Redis OSS, cluster
// mode off) in the private-db subnets, encrypted at rest and in transit, AUTH token required. It
// holds what every instance must see alike (login throttling counters). With replicas it is
// Multi-AZ with automatic failover; without, one node. The token is the shared secret `redis-auth`,
// resolved by CloudFormation from a dynamic reference (never in the template). Its
// security group admits nothing by itself: each service stack that declares the cache adds ingress
// on the port from its own instances (CacheIngress), as DatabaseIngress does for MySQL, so the
// cache is open only to those instances and no stack takes the other's outputs both ways.
import type { Environment } from '../environment/index.js';
import { secretArn, StackBuilder, stackOutputs, subnetList, VPC_ID, type RenderedStack } from './lib/stack.js';
import { DATA_TIER_PORTS, NETWORK } from './network.js';
import { getAtt, join, ref, sub } from './lib/template.js';
import { noEgressSecurityGroup } from './lib/data-tier.js';

/** The outputs the service stacks take (REDIS_URL and the security group they add ingress to). */
export const CACHE = stackOutputs('cache', ['RedisUrl', 'CacheSecurityGroupId', 'ReplicationGroupId']);
/** The shared secret holding the AUTH token (environment/shared-secrets.ts). */
export const CACHE_AUTH_SECRET = 'redis-auth';
export const CACHE_PORT = DATA_TIER_PORTS.cache;
/** The engine version each engine is pinned to (cluster mode off, TLS and AUTH supported). */
export const CACHE_ENGINE_VERSIONS = { valkey: '8.0', redis: '7.1' } as const;

export function renderCache(inv: Environment): RenderedStack {
  const c = inv.cache;
  const multiAz = c.replicas > 0;
  const version = CACHE_ENGINE_VERSIONS[c.engine];
  const t = new StackBuilder(inv, CACHE.RedisUrl.stack,
    `Shared cache: ElastiCache ${c.engine} ${version} (${c.nodeType}, ${multiAz ? `a primary and ${c.replicas} replica(s), Multi-AZ with automatic failover` : 'one node'}), ` +
    'private-db subnets, encrypted at rest and in transit, AUTH token from Secrets Manager.');

  const vpcId = t.param('VpcId', VPC_ID, NETWORK.VpcId);
  const subnets = t.param('PrivateDbSubnetIds', subnetList('Private-db subnets (network stack output PrivateDbSubnetIds)'), NETWORK.PrivateDbSubnetIds);
  t.param('RedisAuthSecretArn', secretArn('Secrets Manager secret with the cache AUTH token {authToken} (created by the playbook)'), { from: 'secret', secret: CACHE_AUTH_SECRET });

  t.resource('CacheSubnetGroup', {
    Type: 'AWS::ElastiCache::SubnetGroup',
    Properties: {
      Description: `${t.prefixed('cache')}: private-db subnets`,
      SubnetIds: subnets,
      Tags: t.tags(),
    },
  });
  noEgressSecurityGroup(t, 'CacheSecurityGroup', { description: `Cache: each service stack that uses it adds ingress on ${CACHE_PORT} from its own security group, nothing else`, vpcId, name: 'cache' });

  t.resource('ReplicationGroup', {
    Type: 'AWS::ElastiCache::ReplicationGroup',
    // The counters are short-lived, but a replacement or deletion still keeps a final snapshot.
    DeletionPolicy: 'Snapshot',
    UpdateReplacePolicy: 'Snapshot',
    Properties: {
      ReplicationGroupDescription: `${t.prefixed('cache')}: counters every instance shares (login throttling)`,
      Engine: c.engine,
      EngineVersion: version,
      CacheNodeType: c.nodeType,
      NumCacheClusters: c.replicas + 1,
      AutomaticFailoverEnabled: multiAz,
      MultiAZEnabled: multiAz,
      CacheSubnetGroupName: ref('CacheSubnetGroup'),
      SecurityGroupIds: [getAtt('CacheSecurityGroup', 'GroupId')],
      Port: CACHE_PORT,
      AtRestEncryptionEnabled: true,
      TransitEncryptionEnabled: true,
      // The secret's current value when CloudFormation creates the group (or replaces it); the
      // reference never changes, so an update never sends a token: rotations go through ElastiCache's
      // ROTATE and SET (playbooks/lib/modules/cache-token-rotation.ts), which CloudFormation lacks.
      AuthToken: sub('{{resolve:secretsmanager:${RedisAuthSecretArn}:SecretString:authToken}}'),
      AutoMinorVersionUpgrade: true,
      Tags: t.tags(),
    },
  });

  // Fn::Join rather than Fn::Sub of ${ReplicationGroup.PrimaryEndPoint.Address}: the same value, and
  // moto 5.2.1's Fn::Sub splits a two-dot attribute name apart (the emulator suite deploys this).
  t.output(CACHE.RedisUrl, 'Where services reach the cache: rediss:// (TLS) to the primary endpoint',
    join('', ['rediss://', getAtt('ReplicationGroup', 'PrimaryEndPoint.Address'), ':', getAtt('ReplicationGroup', 'PrimaryEndPoint.Port')]));
  t.output(CACHE.CacheSecurityGroupId, 'The cache security group (service stacks add their ingress)', getAtt('CacheSecurityGroup', 'GroupId'));
  t.output(CACHE.ReplicationGroupId, 'The replication group id', ref('ReplicationGroup'));
  return t.build();
}
