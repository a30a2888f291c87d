// ./playbooks/preflight.mjs against moto (test/emulator/moto_server.py) on the emulator inventory:
// the online checks where moto implements the calls (EC2 zones, offerings and instance types,
// CloudFormation, S3, Secrets Manager, STS) pass and change nothing; the ones it does not (Service
// Quotas, IAM policy simulation) say they could not be checked; a shared secret scheduled for
// deletion is an error-level finding with its fix.
import t from 'tap';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListStacksCommand, CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { CreateSecretCommand, DeleteSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { distFile, ROOT } from '../helpers/processes.js';
import { startMoto } from '../helpers/moto.js';

distFile('playbooks/lib/scripts.js');
const moto = await startMoto(t);
const home = await mkdtemp(join(tmpdir(), 'saleday-preflight-moto-'));
t.teardown(() => rm(home, { recursive: true, force: true }));

function preflight(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(ROOT, 'playbooks/preflight.mjs'), '-i', 'test/fixtures/inventories/emulator.yaml', ...args], { cwd: ROOT, env: { PATH: process.env.PATH ?? '', HOME: home, NODE_NO_WARNINGS: '1', ...moto.env }, timeout: 120_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }));
  });
}

t.test('the emulator inventory: every check runs, nothing changes', async (t) => {
  const r = await preflight([]);
  t.equal(r.code, 0, 'no error-level finding', { output: r.code === 0 ? undefined : r.stdout });
  t.match(r.stdout, /ok: \[aws credentials\] account 123456789012, region eu-west-1/);
  t.match(r.stdout, /ok: \[preflight offerings\] zones eu-west-1a, eu-west-1b: every instance type checked/);
  t.match(r.stdout, /ok: \[preflight names\] s3:\/\/saleday-artifacts-123456789012-eu-west-1: free[^\n]*\n {4}\d+ stacks looked up: none in a state an update cannot start from/);
  t.match(r.stdout, /ok: \[preflight duration\] [^]*a first deploy takes about \d+ min/);
  // moto 5.2.1 has no Service Quotas and no policy simulation: those say so instead of passing.
  t.match(r.stdout, /warning: quotas: quotas: could not be checked: /);
  t.match(r.stdout, /warning: permissions: permissions: could not be checked: /);
  const cfn = new CloudFormationClient(moto.clientConfig());
  const stacks = (await cfn.send(new ListStacksCommand({}))).StackSummaries ?? [];
  t.same(stacks, [], 'no stack made');
});

t.test('a shared secret scheduled for deletion: exit 2 with the fix', async (t) => {
  const sm = new SecretsManagerClient(moto.clientConfig());
  await sm.send(new CreateSecretCommand({ Name: 'saleday/emulator/jwt', SecretString: '{}' }));
  await sm.send(new DeleteSecretCommand({ SecretId: 'saleday/emulator/jwt', RecoveryWindowInDays: 7 }));
  const r = await preflight(['--json', join(home, 'run.json')]);
  t.equal(r.code, 2);
  t.match(r.stdout, /failed: \[preflight names\] 1 error[^\n]*\n {4}error names: secret saleday\/emulator\/jwt: is scheduled for deletion: creating or updating it fails until it is gone\n {6}fix: aws secretsmanager restore-secret --secret-id saleday\/emulator\/jwt/);
});
