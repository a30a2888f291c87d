// The loadgen stack (cloudformation/loadgen.ts), registered beside the shop's stacks, for every
// shipped inventory: the project's spec, security and wiring checks and cfn-lint find nothing; the
// task role reads the harness artifacts and writes the results prefix, nothing else; the execution
// role writes its log group only; the container carries what the launcher does not give per task;
// the bootstrap a task runs is valid JavaScript (its behaviour: test/emulator/loadgen-bootstrap.test.ts).
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { START_FILE } from '../../loadtest/lib/generators/aws-layout.js';
import { loadEnvironment } from '../../environment/index.js';
import { renderEnvironment, validateStacks } from '../../cloudformation/index.js';
import { LOADGEN_BOOTSTRAP } from '../../cloudformation/lib/loadgen-bootstrap.js';
import { LOADGEN_RESULTS_PREFIX, LOADGEN_START_FILE } from '../../cloudformation/loadgen.js';
import { repoFile } from './fixtures.js';

const exec = promisify(execFile);
const out = await mkdtemp(join(tmpdir(), 'saleday-loadgen-'));
t.teardown(() => rm(out, { recursive: true, force: true }));

for (const name of ['local', 'staging', 'production']) {
  const inv = await loadEnvironment(repoFile(`playbooks/inventories/${name}.yaml`));
  const files = renderEnvironment(inv, { now: new Date('2026-12-01T00:00:00Z') });
  const loadgen = files.find((f) => f.stack.name === 'loadgen')!;

  t.test(`${name}: spec, security and wiring checks`, async (t) => {
    const findings = await validateStacks(files.map((f) => f.stack));
    t.same(findings.filter((f) => JSON.stringify(f).includes('loadgen')), []);
  });

  t.test(`${name}: cfn-lint`, async (t) => {
    const file = join(out, `${name}-loadgen.yaml`);
    await writeFile(file, loadgen.body);
    const run = await exec('cfn-lint', ['--format', 'json', '--config-file', repoFile('.cfnlintrc.yaml'), '--regions', inv.region, '--', file]).then(
      (r) => r.stdout,
      (e: { code: number | string; stdout?: string }) => {
        if (e.code === 'ENOENT') throw new Error('cfn-lint is not on PATH: pip install cfn-lint==1.51.0');
        return e.stdout ?? '';
      },
    );
    t.same((JSON.parse(run) as Array<{ Level: string; Message: string }>).filter((f) => f.Level !== 'Informational').map((f) => f.Message), []);
  });

  t.test(`${name}: least privilege, nothing that costs while idle`, (t) => {
    const res = loadgen.stack.template.Resources;
    const types = Object.values(res).map((r) => r.Type).sort();
    t.same(types, ['AWS::EC2::SecurityGroup', 'AWS::ECS::Cluster', 'AWS::ECS::TaskDefinition', 'AWS::IAM::Role', 'AWS::IAM::Role', 'AWS::Logs::LogGroup'], 'no service, no instances: idle costs nothing');
    const statements = JSON.stringify((res.TaskRole!.Properties as { Policies: unknown }).Policies);
    t.match(statements, /"Action":"s3:GetObject","Resource":\{"Fn::Sub":"arn:\$\{AWS::Partition\}:s3:::\$\{ArtifactBucket\}\/artifacts\/loadgen\/\*"\}/);
    t.match(statements, new RegExp(`"Action":"s3:PutObject","Resource":\\{"Fn::Sub":"arn:\\$\\{AWS::Partition\\}:s3:::\\$\\{ArtifactBucket\\}/${LOADGEN_RESULTS_PREFIX}\\*"\\}`));
    t.match(statements, new RegExp(`"Action":"s3:GetObject","Resource":\\{"Fn::Sub":"arn:\\$\\{AWS::Partition\\}:s3:::\\$\\{ArtifactBucket\\}/${LOADGEN_RESULTS_PREFIX}\\*/start-at\\.json"\\}`), 'reads its run\'s start object only');
    t.match(statements, new RegExp(`"Action":"s3:ListBucket".*"s3:prefix":"${LOADGEN_RESULTS_PREFIX}\\*"`), 'lists the results prefix only (a missing start object is a 404)');
    t.equal((statements.match(/"Effect"/g) ?? []).length, 4, 'four statements, nothing else');
    t.equal(LOADGEN_START_FILE, START_FILE, 'the role names the start object the launcher writes');
    t.same(loadgen.stack.inputs.ArtifactBucket, { from: 'artifact', service: 'loadgen', field: 'bucket' });
    const policies = (res.ExecutionRole!.Properties as { Policies: Array<{ PolicyDocument: { Statement: unknown[] } }> }).Policies;
    t.same(policies.flatMap((p) => p.PolicyDocument.Statement), [{ Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: { 'Fn::Sub': '${LogGroup.Arn}' } }], 'the execution role writes its log group, nothing else');
    t.notOk((res.ExecutionRole!.Properties as Record<string, unknown>).ManagedPolicyArns, 'no managed policies');
    const task = res.TaskDefinition!.Properties as { ContainerDefinitions: Array<{ Environment: Array<{ Name: string }>; Command: string[] }> };
    t.same(task.ContainerDefinitions[0]!.Environment.map((e) => e.Name), ['ARTIFACT_BUCKET', 'RESULTS_BUCKET'], 'the rest comes per task (containerOverrides)');
    t.equal(task.ContainerDefinitions[0]!.Command[0], 'node');
    t.end();
  });
}

t.test('the task bootstrap is valid JavaScript and checks the sha256 before unpacking', async (t) => {
  const file = join(out, 'bootstrap.cjs');
  await writeFile(file, LOADGEN_BOOTSTRAP);
  await exec(process.execPath, ['--check', file]);
  t.ok(LOADGEN_BOOTSTRAP.indexOf('ARTIFACT_SHA256') < LOADGEN_BOOTSTRAP.indexOf("execFileSync('tar'"), 'sha256 checked before tar');
});
