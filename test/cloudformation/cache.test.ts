// Issue 15, the AWS side of fleet-wide throttling: the cache stack (an ElastiCache replication group
// in the private-db subnets, encrypted, its AUTH token a dynamic reference to the shared secret
// redis-auth), what the inventory may say about it, who may reach it, and where it deploys.
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { CACHE, deployWaves, validateStacks } from '../../cloudformation/index.js';
import { loadEnvironment, SHARED_SECRETS, SHOP_SERVICES, type InventoryFileError } from '../../environment/index.js';
import { inventoryFile, ofType, rendered } from './fixtures.js';

const production = await rendered('production');
const staging = await rendered('staging');
const local = await rendered('local');

t.test('production: a primary and two replicas, Multi-AZ with automatic failover; staging and local: one node', async (t) => {
  const group = (r: typeof production) => r.stack('cache').template.Resources.ReplicationGroup!.Properties!;
  t.match(group(production), { NumCacheClusters: 3, MultiAZEnabled: true, AutomaticFailoverEnabled: true, CacheNodeType: 'cache.m7g.large', Engine: 'valkey', EngineVersion: '8.0' });
  for (const r of [staging, local]) t.match(group(r), { NumCacheClusters: 1, MultiAZEnabled: false, AutomaticFailoverEnabled: false, CacheNodeType: 'cache.t4g.micro' }, r.inv.environment);
  for (const r of [production, staging, local]) {
    const g = group(r);
    t.match(g, { AtRestEncryptionEnabled: true, TransitEncryptionEnabled: true, Port: 6379 }, `${r.inv.environment}: encrypted both ways`);
    t.same(g.AuthToken, { 'Fn::Sub': '{{resolve:secretsmanager:${RedisAuthSecretArn}:SecretString:authToken}}' }, `${r.inv.environment}: the token by dynamic reference that never changes (an update never sends a token; rotations go through ElastiCache)`);
    const subnets = r.stack('cache').template.Resources.CacheSubnetGroup!.Properties!.SubnetIds;
    t.same(subnets, { Ref: 'PrivateDbSubnetIds' }, `${r.inv.environment}: in the private-db subnets`);
    t.same((await validateStacks(r.stacks)).filter((f) => f.severity === 'error' && f.stack === 'cache'), [], `${r.inv.environment}: spec, security and wiring checks pass`);
  }
});

t.test('the AUTH token secret and the network come in as inputs; the value never does', (t) => {
  const cache = production.stack('cache');
  t.same(cache.inputs.RedisAuthSecretArn, { from: 'secret', secret: 'redis-auth' });
  t.equal(cache.inputs.RedisAuthVersionId, undefined, 'no version id: a new secret version does not update the group');
  t.same(cache.inputs.PrivateDbSubnetIds, { from: 'output', stack: 'network', output: 'PrivateDbSubnetIds' });
  t.notMatch(JSON.stringify(cache.template), /"AuthToken":"[^{]/, 'no literal token');
  t.end();
});

t.test('6379 only from the instances of services that declare the cache (users), over the private-db NACL', (t) => {
  const cacheSg = production.stack('cache').template.Resources.CacheSecurityGroup!.Properties!;
  t.notOk(cacheSg.SecurityGroupIngress, 'the cache security group admits nothing by itself');
  for (const d of SHOP_SERVICES) {
    const s = production.stack(`service-${d.name}`);
    const ingress = ofType(s.template, 'AWS::EC2::SecurityGroupIngress').filter(([, r]) => JSON.stringify(r.Properties!.GroupId) === '{"Ref":"CacheSecurityGroupId"}');
    if ('sharedStore' in d && d.sharedStore) {
      t.same(ingress.map(([, r]) => r.Properties), [{
        GroupId: { Ref: 'CacheSecurityGroupId' }, IpProtocol: 'tcp', FromPort: 6379, ToPort: 6379,
        SourceSecurityGroupId: { 'Fn::GetAtt': ['InstanceSecurityGroup', 'GroupId'] }, Description: `The shared cache from ${d.name} instances`,
      }], `${d.name}: its instances may reach the cache`);
      t.same(s.inputs.CacheSecurityGroupId, CACHE.CacheSecurityGroupId);
      t.same(s.inputs.CacheUrl, CACHE.RedisUrl, `${d.name}: REDIS_URL from the cache stack`);
    } else {
      t.same(ingress, [], `${d.name}: no way to the cache`);
      t.notOk(s.inputs.CacheUrl, `${d.name}: no cache URL`);
    }
  }
  const nacl = ofType(production.stack('network').template, 'AWS::EC2::NetworkAclEntry').filter(([id]) => id.startsWith('DbNetworkAclIn'));
  const cacheRules = nacl.filter(([, r]) => (r.Properties!.PortRange as { From?: number } | undefined)?.From === 6379);
  t.equal(cacheRules.length, 3, 'the private-db NACL admits 6379 from each private-app block');
  t.end();
});

t.test('the cache deploys with the database, after the network and before users', (t) => {
  for (const r of [production, staging]) {
    const waves = deployWaves(r.stacks).map((w) => w.map((s) => s.name));
    const at = (name: string) => waves.findIndex((w) => w.includes(name));
    t.equal(at('cache'), at('database'), `${r.inv.environment}: beside the database`);
    t.ok(at('network') < at('cache') && at('cache') < at('service-users'), `${r.inv.environment}: ${waves.map((w) => w.join(', ')).join(' | ')}`);
  }
  t.end();
});

t.test('redis-auth: made by the deploy (aws only), a token inside ElastiCache AUTH rules', (t) => {
  const secret = SHARED_SECRETS['redis-auth'];
  t.match(secret, { generate: { kind: 'random-token', key: 'authToken' }, only: 'aws' });
  // What the deploy makes for a random-token: 32 random bytes, base64url (aws-deploy.ts).
  for (let i = 0; i < 200; i++) {
    const token = randomBytes(32).toString('base64url');
    t.ok(token.length >= 16 && token.length <= 128 && /^[\x21-\x7e]+$/.test(token) && !/[@"/]/.test(token), 'printable, 16 to 128 characters, no @ " /');
  }
  t.end();
});

t.test('the inventory key cache is checked', async (t) => {
  const bad = async (override: string) =>
    loadEnvironment(inventoryFile('staging'), { overrides: [override] }).then(() => '', (err: InventoryFileError) => err.message);
  t.match(await bad('cache.replicas=6'), /cache\.replicas/);
  t.match(await bad('cache.nodeType=m7g.large'), /cache\.nodeType.*ElastiCache node type/);
  t.match(await bad('cache.engine=memcached'), /cache\.engine.*one of valkey, redis/);
  t.equal(await bad('cache.replicas=2'), '', 'replicas within 0 to 5');
  t.end();
});
