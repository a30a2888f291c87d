// -e rotate=redis-auth: the cache AUTH token changes without a moment where users holds a token
// the cache refuses. The module on its own (order of the steps, --check, a run interrupted
// between them finished by the next with the same token), the replication group as its server
// (waits for 'available' before and after each change, a group that never settles), the SDK
// adapter (ROTATE/SET applied at once, throttling retried, a 5xx not repeated), and the whole
// deploy play against the AWS fakes (aws-sdk-client-mock: ElastiCache has no AUTH tokens in moto).
import t, { type Test } from 'tap';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ElastiCacheClient, ModifyReplicationGroupCommand } from '@aws-sdk/client-elasticache';
import { PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import type { RenderedStack } from '../../cloudformation/index.js';
import { parseEnvironment } from '../../environment/index.js';
import { SdkElastiCache } from '../../playbooks/lib/aws/elasticache.js';
import { type CacheTokenServer, type CacheTokenStore, replicationGroupTokenServer, rotateCacheToken } from '../../playbooks/lib/modules/cache-token-rotation.js';
import { planRotation } from '../../playbooks/lib/modules/secret-rotation.js';
import { stackSource } from '../fixtures/aws-play.js';
import { FakeElastiCache, awsError, throttling } from './fake-aws.js';
import { awsPlayFiles, healthyWorld, run, type World } from './harness.js';
import { FAST_RETRY, runTask } from './support.js';

const SERVICES = ['users', 'catalog', 'inventory', 'orders'];

/** A store and a server that record, in one list, what happened and which tokens the server accepts then. */
function rig(initial: Record<string, unknown>) {
  const events: string[] = [];
  let stored = { ...initial };
  let accepted = [String(initial.authToken)];
  const store: CacheTokenStore = {
    read: () => Promise.resolve({ ...stored }),
    write: (v) => {
      stored = { ...v };
      events.push(`write ${Object.keys(v).sort().join(',')}`);
      return Promise.resolve();
    },
  };
  const failAt = new Set<string>();
  const server: CacheTokenServer = {
    label: 'the cache',
    addToken: (token) => {
      if (failAt.has('add')) return Promise.reject(new Error('the cache refused the change'));
      accepted = [accepted[accepted.length - 1]!, token];
      events.push('add');
      return Promise.resolve();
    },
    keepOnly: (token) => {
      accepted = [token];
      events.push('keep only');
      return Promise.resolve();
    },
  };
  /** Whether the token users would present (the secret's authToken) is accepted right now. */
  const usersAccepted = () => accepted.includes(String(stored.authToken));
  return { events, store, server, failAt, stored: () => stored, accepted: () => accepted, usersAccepted };
}

t.test('redis-auth is rotated on aws, does not apply to the local target', (t) => {
  t.same(planRotation(['redis-auth'], 'aws', SERVICES).cacheTokens, ['redis-auth']);
  t.same(planRotation(['redis-auth'], 'local', SERVICES).notApplicable.map((n) => n.why), ['redis-auth does not apply to the local target (it exists on aws only)']);
  t.end();
});

t.test('the module: --check changes nothing; a run adds, switches the secret, waits, keeps only the new token', async (t) => {
  const r = rig({ authToken: 'old-token-0123456789abcdef' });
  const waits: number[] = [];
  const args = { label: 'saleday/test/redis-auth', propagationMs: 3_000, wait: (ms: number) => Promise.resolve(void (waits.push(ms), r.events.push('wait'))) };

  const check = await runTask(['--check'], (ctx) => rotateCacheToken(args, r.store, r.server, ctx));
  t.equal(check.outcome.status, 'changed');
  t.match(check.text, /would add a new token to the cache beside the one in use, make it saleday\/test\/redis-auth's authToken, wait 3 s/);
  t.same(r.events, [], '--check neither writes nor touches the cache');

  const checks: boolean[] = [];
  const watched = { ...r.store, write: async (v: Record<string, unknown>) => (await r.store.write(v), void checks.push(r.usersAccepted())) };
  const done = await runTask([], (ctx) => rotateCacheToken(args, watched, r.server, ctx));
  t.equal(done.outcome.status, 'changed');
  t.same(r.events, ['write authToken,next', 'add', 'write authToken', 'wait', 'keep only'], 'the cache accepts the new token before the secret hands it out, and drops the old one only after the re-read wait');
  t.same(waits, [3_000]);
  t.ok(checks.every(Boolean) && r.usersAccepted(), 'after every write the token users reads is one the cache accepts');
  const after = r.stored();
  t.not(after.authToken, 'old-token-0123456789abcdef');
  t.equal(after.next, undefined, 'no next left behind');
  t.match(String(after.authToken), /^[A-Za-z0-9_-]{43}$/, 'a 43-character base64url token (ElastiCache AUTH rules)');
  t.same(r.accepted(), [after.authToken], 'the cache accepts the new token only');
  t.notMatch(done.text + check.text, new RegExp(String(after.authToken)), 'the token is never printed');
});

t.test('a run stopped before the cache took the token is finished by the next one, with the same token', async (t) => {
  const r = rig({ authToken: 'old-token-0123456789abcdef' });
  const args = { label: 'saleday/test/redis-auth', propagationMs: 1, wait: () => Promise.resolve() };
  r.failAt.add('add');
  const failed = await runTask([], (ctx) => rotateCacheToken(args, r.store, r.server, ctx).catch((err: Error) => ({ status: 'failed' as const, msg: err.message })));
  t.equal(failed.outcome.status, 'failed');
  const left = r.stored();
  t.equal(left.authToken, 'old-token-0123456789abcdef', 'users keeps presenting the old token, which the cache still accepts');
  t.ok(r.usersAccepted());
  t.type(left.next, 'string', 'the new token is kept as next');
  r.failAt.clear();
  await runTask([], (ctx) => rotateCacheToken(args, r.store, r.server, ctx));
  t.equal(r.stored().authToken, left.next, 'the next run finishes with the token it left');
  t.same(r.accepted(), [left.next]);
});

t.test('the replication group as the server: each change waits for available before and after', async (t) => {
  const calls: string[] = [];
  const statuses = ['modifying', 'available', 'modifying', 'modifying', 'available'];
  const api = {
    groupStatus: () => {
      const s = statuses.shift() ?? 'available';
      calls.push(s);
      return Promise.resolve(s);
    },
    modifyAuthToken: (_g: string, _token: string, strategy: string) => Promise.resolve(void calls.push(strategy)),
  };
  const server = replicationGroupTokenServer(api, 'saleday-test-cache', { pollMs: 1 });
  t.equal(server.label, 'replication group saleday-test-cache');
  await server.addToken('new-token-0123456789abcdef');
  t.same(calls, ['modifying', 'available', 'ROTATE', 'modifying', 'modifying', 'available'], 'a group busy with another change is waited for first');
  calls.length = 0;
  await server.keepOnly('new-token-0123456789abcdef');
  t.same(calls, ['available', 'SET', 'available']);

  const stuck = replicationGroupTokenServer({ groupStatus: () => Promise.resolve('modifying'), modifyAuthToken: () => Promise.resolve() }, 'saleday-test-cache', { pollMs: 1, timeoutMs: 5 });
  await t.rejects(stuck.addToken('x'), /replication group saleday-test-cache is still modifying 0 min before the token change: see its events in the ElastiCache console, then run the rotation again/);
  const gone = replicationGroupTokenServer({ groupStatus: () => Promise.resolve(undefined), modifyAuthToken: () => Promise.resolve() }, 'saleday-test-cache', { pollMs: 1 });
  await t.rejects(gone.keepOnly('x'), /replication group saleday-test-cache does not exist: deploy the cache stack first/);
});

t.test('the SDK adapter: applied at once with the strategy; throttling retried, a 5xx not repeated', async (t) => {
  const fake = new FakeElastiCache();
  t.teardown(() => fake.restore());
  const api = new SdkElastiCache(new ElastiCacheClient({ region: 'eu-west-1' }), FAST_RETRY);
  t.equal(await api.groupStatus('nope'), undefined, 'no such group');
  fake.seed('g1', 'first-token-0123456789abcdef');
  fake.modifyingDescribes = 0;
  t.equal(await api.groupStatus('g1'), 'available');
  await api.modifyAuthToken('g1', 'second-token-0123456789abcdef', 'ROTATE');
  t.same(fake.modifications, ['ROTATE g1'], 'ApplyImmediately set (no maintenance-window wait)');
  t.ok(fake.accepts('g1', 'first-token-0123456789abcdef') && fake.accepts('g1', 'second-token-0123456789abcdef'), 'ROTATE: both accepted');
  const input = fake.mock.commandCalls(ModifyReplicationGroupCommand)[0]!.args[0].input;
  t.equal(input.AuthTokenUpdateStrategy, 'ROTATE');

  t.equal(await api.groupStatus('g1'), 'available', 'available again after the change');
  let calls = 0;
  fake.onModify = () => {
    calls += 1;
    if (calls === 1) throw throttling();
  };
  await api.modifyAuthToken('g1', 'second-token-0123456789abcdef', 'SET');
  t.equal(calls, 2, 'a throttled call is made again');
  t.same(fake.groups.get('g1')!.tokens, ['second-token-0123456789abcdef'], 'SET: the new token only');

  await api.groupStatus('g1');
  calls = 0;
  fake.onModify = () => {
    calls += 1;
    throw awsError('InternalFailure', 'internal error', 500);
  };
  await t.rejects(api.modifyAuthToken('g1', 'third-token-0123456789abcdef', 'ROTATE'), { name: 'InternalFailure' });
  t.equal(calls, 1, 'a change that may have taken effect is not sent again');
});

t.test('the deploy play: -e rotate=redis-auth on aws', async (t) => {
  const { root, site } = await awsPlayFiles(t);
  const inventory = parseEnvironment(
    readFileSync(fileURLToPath(new URL('../../playbooks/inventories/staging.yaml', import.meta.url)), 'utf8'),
    'test.yaml',
    { overrides: { environment: 'test', ...Object.fromEntries(SERVICES.map((s) => [`services.${s}.environment.SECRETS_REFRESH_SECONDS`, '1'])) } },
  );
  // The stand-in stacks plus a cache stack whose group id the rotation reads from its outputs.
  const base = stackSource();
  const cache: RenderedStack = {
    name: 'cache',
    stackName: 'saleday-test-cache',
    template: {
      AWSTemplateFormatVersion: '2010-09-09',
      Description: 'cache',
      Parameters: {},
      Resources: { ReplicationGroup: { Type: 'AWS::ElastiCache::ReplicationGroup', Properties: {} } },
      Outputs: { ReplicationGroupId: { Description: 'group', Value: { Ref: 'ReplicationGroup' } } },
    },
    inputs: {},
  };
  const env = { inventory, source: { ...base, render: () => [...base.render(), cache] }, root };
  const SECRET = 'saleday/test/redis-auth';
  const GROUP = 'saleday-test-cache:ReplicationGroupId';
  let w: World = healthyWorld(site.url);
  t.teardown(() => w.restore());
  const token = () => String((JSON.parse(w.secrets.secrets.get(SECRET)!.value) as { authToken: string }).authToken);
  const exitCode = (t: Test, r: { code: number; text: string }, code: number) => {
    if (r.code !== code) t.comment(r.text);
    t.equal(r.code, code, `exit code ${code}`);
  };

  exitCode(t, await run('deploy', ['-i', 'test.yaml', '--yes'], env), 0);
  const first = token();
  w.elasticache.seed(GROUP, first);
  t.same(w.elasticache.modifications, [], 'a deploy without -e rotate never touches the token');

  const check = await run('deploy', ['-i', 'test.yaml', '--check', '-e', 'rotate=redis-auth'], env);
  exitCode(t, check, 0);
  t.match(check.text, /\[rotate redis-auth\] would add a new token to replication group saleday-test-cache:ReplicationGroupId beside the one in use/);
  t.same(w.elasticache.modifications, [], '--check: the cache is not modified');
  t.equal(token(), first, '--check: the secret is not written');

  // Each modification notes which token users reads at that moment.
  const order: string[] = [];
  w.elasticache.onModify = (_g, strategy) => void order.push(`${strategy} while users reads the ${token() === first ? 'old' : 'new'} token`);
  const put = w.secrets.mock.commandCalls(PutSecretValueCommand).length;
  const r = await run('deploy', ['-i', 'test.yaml', '--yes', '-e', 'rotate=redis-auth'], env);
  exitCode(t, r, 0);
  t.match(r.text, /changed: \[rotate redis-auth\] saleday\/test\/redis-auth: rotated; replication group saleday-test-cache:ReplicationGroupId accepts the new token only/);
  const writes = w.secrets.mock.commandCalls(PutSecretValueCommand).slice(put).filter((c) => c.args[0].input.SecretId === SECRET);
  t.equal(writes.length, 2, 'two writes: next kept, then authToken switched');
  const staged = JSON.parse(writes[0]!.args[0].input.SecretString!) as { authToken: string; next: string };
  t.equal(staged.authToken, first, 'stage 1: users still reads the old token');
  const finalToken = token();
  t.equal(finalToken, staged.next, 'the secret ends on the staged token');
  t.same(order, ['ROTATE while users reads the old token', 'SET while users reads the new token'], 'the new token is accepted before users gets it; the old one dropped only after');
  t.same(w.elasticache.groups.get(GROUP)!.tokens, [finalToken], 'the cache accepts the new token only');
  t.notMatch(r.text, new RegExp(`${first}|${finalToken}`), 'no token in the output');

  const limited = await run('deploy', ['-i', 'test.yaml', '--yes', '--limit', 'users', '-e', 'rotate=redis-auth'], env);
  exitCode(t, limited, 0);
  t.match(limited.text, /\[rotate redis-auth\] left for a full deploy/);
  t.equal(order.length, 2, '--limit: not rotated');

  // A group that refuses the change: the play fails, the secret still holds a token the cache accepts.
  w.restore();
  w = healthyWorld(site.url);
  exitCode(t, await run('deploy', ['-i', 'test.yaml', '--yes'], env), 0);
  w.elasticache.seed(GROUP, token());
  w.elasticache.onModify = () => {
    throw awsError('InvalidParameterValueException', 'The AUTH token update strategy is not valid for this group.');
  };
  const refused = await run('deploy', ['-i', 'test.yaml', '--yes', '-e', 'rotate=redis-auth'], env);
  t.not(refused.code, 0, 'the play fails');
  t.match(refused.text, /rotate redis-auth/);
  t.ok(w.elasticache.accepts(GROUP, token()), 'users still reads a token the cache accepts');
});
