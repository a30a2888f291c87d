// Issue 13 step g, the teardown, against an AWS emulator as a new user runs it: the environment is
// deployed (./playbooks/deploy.mjs --yes), then ./playbooks/destroy.mjs reviews (--check: nothing
// deleted), deletes (--yes: no stack of the environment left, nor the secrets deploy made; the
// shared artifacts stay) and runs again (changed=0). Its own moto and deployment, so it runs beside
// deploy.test.ts (steps a–f) rather than after it. What happened is read back through the
// emulator's APIs. The refusals and DELETE_FAILED are test/playbooks/aws-destroy.test.ts's (scripted).
import t from 'tap';
import {
  EMULATOR_ARTIFACTS as ARTIFACTS, EMULATOR_PREFIX as PREFIX, EMULATOR_STACKS as STACKS, emulatorWorld, expectExit, recap,
} from '../helpers/emulator-playbooks.js';

const { playbook, liveStacks, secretNames, objectKeys } = await emulatorWorld(t);
const environmentStacks = async (): Promise<string[]> => [...(await liveStacks()).keys()].filter((n) => n.startsWith(PREFIX)).sort();

t.before(async () => {
  const r = await playbook('deploy', ['--yes', '--skip-tags', 'smoke']);
  if (r.code !== 0) throw new Error(`deploy --yes: exit ${r.code}\n${r.stdout.slice(-3000)}\n${r.stderr.slice(-1000)}`);
});

t.test('g. destroy: --check deletes nothing, --yes deletes every stack of the environment, a second run changes nothing', async (t) => {
  const stacksBefore = await environmentStacks();
  const secretsBefore = await secretNames();
  const keysBefore = await objectKeys(ARTIFACTS);
  t.same(stacksBefore, STACKS.map((k) => `${PREFIX}${k}`).sort(), 'every stack is there before');

  const check = await playbook('destroy', ['--check']);
  expectExit(t, check, 0, 'destroy --check');
  t.match(check.stdout, /stacks deleted, in this order/, 'the review lists what goes');
  // Reverse deploy order: monitoring first (it takes outputs of the most stacks), network last (every stack takes its outputs).
  const steps = [...check.stdout.matchAll(/^\s+\d+\. (.+)$/gm)].map((m) => m[1]!);
  t.match(steps[0], new RegExp(`^${PREFIX}monitoring `), 'monitoring goes first');
  t.match(steps.at(-1), new RegExp(`^${PREFIX}network `), 'network goes last');
  t.match(steps.find((l) => l.includes('service-users')), /service-catalog.*service-inventory.*service-orders/, 'the service stacks go together');
  t.match(check.stdout, /AWS::RDS::DBInstance \S+ \(Database in saleday-emulator-database\): deleted after a final snapshot/, 'the review names the database snapshot');
  t.match(check.stdout, /AWS::S3::Bucket \S+ \(AssetsBucket in saleday-emulator-static-site\): kept as it is/, 'the review names the retained site bucket');
  t.match(check.stdout, /AWS::KMS::Key \S+ \(DatabaseKey in saleday-emulator-database\): kept as it is/, 'the review names the retained key');
  t.match(check.stdout, /secrets deleted \(made by deploy, no recovery window\): saleday\/emulator\/jwt/, 'the review names the secrets deploy made');
  t.match(check.stdout, new RegExp(`kept: s3://${ARTIFACTS} and its artifacts`), 'the review says the artifacts bucket stays');
  t.same(await environmentStacks(), stacksBefore, '--check deleted no stack');
  t.same(await secretNames(), secretsBefore, '--check deleted no secret');
  t.same(await objectKeys(ARTIFACTS), keysBefore, '--check deleted no object');

  // Without --yes and without a terminal nothing is deleted: test/playbooks/aws-destroy.test.ts.
  const r = await playbook('destroy', ['--yes']);
  expectExit(t, r, 0, 'destroy --yes');
  t.same(await environmentStacks(), [], 'no stack of the environment is left');
  const shared = ['jwt', 'jwt-public', 'service-credential'].map((n) => `saleday/emulator/${n}`);
  t.same((await secretNames()).filter((n) => shared.includes(n)), [], 'the secrets deploy made are gone');
  const keysAfter = await objectKeys(ARTIFACTS);
  t.same(keysAfter.filter((k) => k.startsWith(`templates/${PREFIX}`)), [], 'the templates deploy uploaded are gone');
  t.same(keysAfter.filter((k) => k.startsWith('artifacts/')), keysBefore.filter((k) => k.startsWith('artifacts/')), 'the artifacts stay');

  const again = await playbook('destroy', ['--yes']);
  expectExit(t, again, 0, 'a second destroy');
  t.equal(recap(again.stdout).changed, 0, 'changed=0');
  t.match(again.stdout, /no stack of this environment exists/);
});
