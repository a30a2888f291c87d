// Acceptance 3: the user-data of every service, with its Fn::Sub variables filled in the way
// CloudFormation fills them, passes `bash -n` and shellcheck; and it does what the issue asks.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { SERVICE_NAMES } from '../../environment/index.js';
import { subVariables } from '../../cloudformation/lib/template.js';
import { rendered, type Rendered } from './fixtures.js';

const run = promisify(execFile);
const dir = await mkdtemp(join(tmpdir(), 'saleday-user-data-'));
t.teardown(() => rm(dir, { recursive: true, force: true }));

const SHA = 'a3f1c2d4e5b60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90';
const SAMPLES: Record<string, string> = {
  'AWS::StackName': 'saleday-production-service-orders',
  'AWS::Region': 'eu-west-1',
  ArtifactBucket: 'saleday-artifacts-123456789012-eu-west-1',
  ArtifactKey: `artifacts/orders/${SHA}.tar.gz`,
  ArtifactSha256: SHA,
  DbSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:OrdersDbSecret-AbCdEf',
  JwtVerifySecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:saleday/production/jwt-public-AbCdEf',
  JwtSigningSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:saleday/production/jwt-AbCdEf',
  ServiceCredentialSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:saleday/production/service-credential-AbCdEf',
  RedisAuthSecretArn: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:saleday/production/redis-auth-AbCdEf',
  CacheUrl: 'rediss://master.saleday-production-cache.abc123.euw1.cache.amazonaws.com:6379',
  DbReadHosts: 'replica-1.abc.eu-west-1.rds.amazonaws.com,replica-2.abc.eu-west-1.rds.amazonaws.com',
  ServiceBaseUrl: 'https://api.shop.example.com',
  ServiceLogGroup: 'saleday-production-service-orders-ServiceLogGroup-1A2B3C',
};

/** The readiness report the bootstrap writes, as its own script. */
const readyOf = (script: string): string => script.slice(script.indexOf("<<'READY'\n") + "<<'READY'\n".length, script.indexOf('\nREADY\n') + 1);

/** The Fn::Sub text of a service's user-data, and the script CloudFormation would hand to EC2. */
function userData(r: Rendered, service: string): { template: string; script: string } {
  const data = r.stack(`service-${service}`).template.Resources.LaunchTemplate!.Properties!.LaunchTemplateData as { UserData: { 'Fn::Base64': { 'Fn::Sub': string } } };
  const template = data.UserData['Fn::Base64']['Fn::Sub'];
  const script = template.replace(/\$\{([^}]*)\}/g, (_, name: string) => {
    if (name.startsWith('!')) return `\${${name.slice(1)}}`;
    const value = SAMPLES[name];
    if (value === undefined) throw new Error(`user-data of ${service} refers to \${${name}}, which has no sample`);
    return value;
  });
  return { template, script };
}

async function check(script: string, name: string): Promise<{ bash: string; shellcheck: string }> {
  const file = join(dir, `${name}.sh`);
  await writeFile(file, script);
  const result = { bash: '', shellcheck: '' };
  try {
    await run('bash', ['-n', file]);
  } catch (err) {
    result.bash = String((err as { stderr?: string }).stderr ?? err);
  }
  try {
    await run('/usr/bin/shellcheck', ['--shell=bash', '--severity=style', '--format=gcc', file]);
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; code?: unknown };
    result.shellcheck = `${e.stdout ?? ''}${e.stderr ?? ''}` || String(err);
  }
  return result;
}

for (const env of ['production', 'staging', 'local']) {
  const r = await rendered(env);
  t.test(`${env}: every service's user-data passes bash -n and shellcheck`, async (t) => {
    for (const service of SERVICE_NAMES) {
      const { script } = userData(r, service);
      const result = await check(script, `${env}-${service}`);
      t.equal(result.bash, '', `${service}: bash -n`);
      t.equal(result.shellcheck, '', `${service}: shellcheck`);
      const ready = await check(readyOf(script), `${env}-${service}-ready`);
      t.equal(ready.bash, '', `${service}: the readiness report passes bash -n`);
      t.equal(ready.shellcheck, '', `${service}: the readiness report passes shellcheck`);
    }
  });

  t.test(`${env}: the user-data does what the issue asks`, (t) => {
    for (const service of SERVICE_NAMES) {
      const s = r.inv.services[service];
      const { template, script } = userData(r, service);
      t.ok(subVariables(template).every((v) => v in SAMPLES || v.startsWith('AWS::')), `${service}: only parameters in \${…}`);
      t.match(script, /dnf install -y -q nodejs22 /, `${service}: installs Node.js 22 (LTS) on Amazon Linux 2023`);
      t.match(script, /aws s3 cp [^\n]*"s3:\/\/\$ARTIFACT_BUCKET\/\$ARTIFACT_KEY"/, `${service}: downloads the artifact by key`);
      t.match(template, /readonly ARTIFACT_KEY='\$\{ArtifactKey\}'/, `${service}: the key is a parameter`);
      t.match(script, /sha256sum --check --strict/, `${service}: checks the sha256`);
      t.match(template, /readonly ARTIFACT_SHA256='\$\{ArtifactSha256\}'/, `${service}: the sha256 is a parameter`);
      t.match(script, new RegExp(`ExecStart=/usr/bin/node-22 dist/services/${service}/main\\.js`), `${service}: starts the service's main`);
      t.match(script, /EnvironmentFile=\/etc\/saleday\//, `${service}: a systemd unit with the environment`);
      t.match(script, /\nHOST=0\.0\.0\.0\n/, `${service}: HOST=0.0.0.0`);
      t.match(script, new RegExp(`\\nPORT=${s.port}\\n`), `${service}: its port`);
      t.match(template, /\nDB_SECRET=aws:\$\{DbSecretArn\}\n/, `${service}: DB secret as a reference`);
      t.match(template, /\nJWT_VERIFY_SECRET=aws:\$\{JwtVerifySecretArn\}\n/, `${service}: JWT verify key as a reference`);
      t.match(script, new RegExp(`\\nSHUTDOWN_TIMEOUT_MS=${s.drainSeconds * 1000}\\n`), `${service}: drains for its drainSeconds`);
      for (const [key, value] of Object.entries(s.environment ?? {})) t.match(script, `\n${key}=${value}\n`, `${service}: inventory extra ${key}`);
      t.match(script, new RegExp(`systemctl enable saleday-${service}\\.service saleday-${service}-ready\\.service\\nsystemctl start saleday-${service}\\.service\\n`), `${service}: enabled at first boot (later boots start it), started now`);
      const ready = readyOf(script);
      t.match(ready, /curl -fsS [^\n]*"http:\/\/127\.0\.0\.1:\$PORT\/readyz"[\s\S]*complete_hook CONTINUE\n\s*signal 0/, `${service}: completes the hook and signals success once /readyz answers`);
      t.match(script, /trap '"\$READY" fail' ERR/, `${service}: reports failure on any error`);
      t.match(ready, /fail\(\) \{\n\s*mark failed\n\s*complete_hook ABANDON\n\s*signal 1/, `${service}: failure abandons the hook and signals 1`);
      t.match(ready, /--resource AutoScalingGroup/, `${service}: signals the Auto Scaling group`);
      t.match(script, /ExecStart=\/usr\/local\/sbin\/saleday-[a-z]+-ready report/, `${service}: a ready unit reports at every boot`);
      // Boot timestamps in the log the CloudWatch agent ships, in order: bootstrap → packages → artifact → service → /readyz.
      const steps = [...script.matchAll(/"\$READY" mark ([a-z-]+)/g)].map((m) => m[1]);
      t.same(steps, ['bootstrap-start', 'packages', 'artifact', 'service-started'], `${service}: first-boot timestamps`);
      t.match(ready, /printf '%s saleday-boot %s %s %s %ss\\n' [^\n]* >> "\$LOG_FILE"/, `${service}: timestamped lines with seconds since the instance started`);
      t.match(ready, new RegExp(`readonly LOG_FILE=/var/log/saleday/${service}\\.log`), `${service}: into the service log`);
      t.match(template, new RegExp(`"file_path": "/var/log/saleday/${service}\\.log"`), `${service}: which the CloudWatch agent ships`);
      t.match(ready, /report\(\) \{\n\s*\[ -e "\$FIRST_BOOT_DONE" \] && mark instance-start\n[\s\S]*mark readyz/, `${service}: a warm start marks its start and /readyz`);
      t.notMatch(ready, /dnf|aws s3|tar /, `${service}: a warm start installs and downloads nothing`);
      const env = script.slice(script.indexOf("<<'ENV'"), script.indexOf('\nENV\n'));
      for (const line of env.split('\n').slice(1)) {
        if (/SECRET|PASSWORD|TOKEN/.test(line.split('=')[0]!)) t.match(line, /=aws:arn:aws:secretsmanager:/, `${service}: ${line.split('=')[0]} is a reference`);
      }
    }
    t.match(userData(r, 'users').template, /\nJWT_SIGNING_SECRET=aws:\$\{JwtSigningSecretArn\}\n/, 'users signs tokens');
    t.match(userData(r, 'users').template, /\nREDIS_AUTH_SECRET=aws:\$\{RedisAuthSecretArn\}\n/, "users has the cache's AUTH token, as a reference");
    t.match(userData(r, 'users').script, /\nREDIS_URL=rediss:\/\/[a-z0-9.-]+:6379\n/, 'users reaches the cache over TLS (the cache stack output)');
    for (const service of SERVICE_NAMES) {
      // CloudFront, then the load balancer, append to X-Forwarded-For: the client is two entries from the end.
      t.match(userData(r, service).script, /\nTRUSTED_PROXY_HOPS=2\n/, `${service}: trusts the two proxies in front of it`);
    }
    for (const service of ['catalog', 'inventory', 'orders']) t.notMatch(userData(r, service).template, /REDIS_/, `${service} does not use the cache`);
    for (const service of ['inventory', 'orders']) t.match(userData(r, service).template, /\nSERVICE_CREDENTIAL_SECRET=aws:\$\{ServiceCredentialSecretArn\}\n/, `${service} has the service credential`);
    t.match(userData(r, 'orders').template, /\nCATALOG_URL=\$\{ServiceBaseUrl\}\nINVENTORY_URL=\$\{ServiceBaseUrl\}\n/, 'orders knows where catalog and inventory are');
    t.notMatch(userData(r, 'catalog').template, /SERVICE_CREDENTIAL_SECRET|JWT_SIGNING_SECRET/, 'catalog gets no more secrets than it needs');
    t.end();
  });
}

t.test('the harness itself fails on a broken script', async (t) => {
  const r = await rendered('staging');
  const { script } = userData(r, 'catalog');
  const syntax = await check(script.replace('fi\nmkdir -p', 'mkdir -p'), 'broken-syntax');
  t.not(syntax.bash, '', 'bash -n catches a missing fi');
  const unquoted = await check(script.replace('rm -rf "$download"', 'rm -rf $download/*'), 'broken-quoting');
  t.match(unquoted.shellcheck, /SC2086/, 'shellcheck catches an unquoted variable');
});

t.test('the readiness report writes boot timestamps: first boot, then warm start', async (t) => {
  const r = await rendered('production');
  const log = join(dir, 'orders.log');
  const done = join(dir, 'orders.first-boot-done');
  const ready = readyOf(userData(r, 'orders').script)
    .replace(/readonly LOG_FILE=.*\n/, `readonly LOG_FILE=${log}\n`)
    .replace(/readonly FIRST_BOOT_DONE=.*\n/, `readonly FIRST_BOOT_DONE=${done}\n`);
  const file = join(dir, 'ready.sh');
  await writeFile(file, ready);
  await run('bash', [file, 'mark', 'packages']);
  await writeFile(done, '');
  await run('bash', [file, 'mark', 'instance-start']);
  const lines = (await import('node:fs')).readFileSync(log, 'utf8').trim().split('\n');
  t.equal(lines.length, 2);
  t.match(lines[0], /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z saleday-boot orders first-boot packages \d+(\.\d+)?s$/, 'first boot: a step with the seconds since the instance started');
  t.match(lines[1], /^\S+ saleday-boot orders warm-start instance-start \d+(\.\d+)?s$/, 'a later boot is a warm start');
  const usage = await run('bash', [file]).then(() => 0, (err: { code: number }) => err.code);
  t.equal(usage, 2, 'no command: usage, exit 2');
});
