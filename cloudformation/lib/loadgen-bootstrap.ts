// What a load-generator task runs first, on a stock Node.js image (no AWS CLI, no SDK): fetch the
// harness artifact from S3 with the task role's credentials (the ECS container credentials
// endpoint, a SigV4-signed GET), refuse it unless its sha256 matches, unpack it and run
// ./loadtest/run.mjs with the arguments the launcher gives (HARNESS_ARGS, a JSON array). The
// service instances do the same with the AWS CLI (user-data.ts). Plain CommonJS for `node -e`.
export const LOADGEN_BOOTSTRAP = `
const { createHash, createHmac } = require('node:crypto');
const { execFileSync, spawn } = require('node:child_process');
const { writeFileSync, mkdirSync } = require('node:fs');
const env = process.env;
const sha = (s) => createHash('sha256').update(s).digest('hex');
const hmac = (k, s) => createHmac('sha256', k).update(s).digest();
(async () => {
  const c = await (await fetch('http://169.254.170.2' + env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI)).json();
  const region = env.AWS_REGION;
  const host = env.ARTIFACT_BUCKET + '.s3.' + region + '.amazonaws.com';
  const path = '/' + env.ARTIFACT_KEY.split('/').map(encodeURIComponent).join('/');
  const amz = new Date().toISOString().replace(/[-:]|\\.\\d{3}/g, '');
  const day = amz.slice(0, 8);
  const headers = { host, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', 'x-amz-date': amz, 'x-amz-security-token': c.Token };
  const names = Object.keys(headers).sort();
  const canonical = ['GET', path, '', names.map((k) => k + ':' + headers[k] + '\\n').join(''), names.join(';'), 'UNSIGNED-PAYLOAD'].join('\\n');
  const scope = day + '/' + region + '/s3/aws4_request';
  let key = 'AWS4' + c.SecretAccessKey;
  for (const part of [day, region, 's3', 'aws4_request']) key = hmac(key, part);
  const signature = createHmac('sha256', key).update(['AWS4-HMAC-SHA256', amz, scope, sha(canonical)].join('\\n')).digest('hex');
  const res = await fetch('https://' + host + path, { headers: { ...headers, authorization: 'AWS4-HMAC-SHA256 Credential=' + c.AccessKeyId + '/' + scope + ', SignedHeaders=' + names.join(';') + ', Signature=' + signature } });
  if (!res.ok) throw new Error('artifact s3://' + env.ARTIFACT_BUCKET + '/' + env.ARTIFACT_KEY + ': HTTP ' + res.status);
  const body = Buffer.from(await res.arrayBuffer());
  if (sha(body) !== env.ARTIFACT_SHA256) throw new Error('artifact s3://' + env.ARTIFACT_BUCKET + '/' + env.ARTIFACT_KEY + ' does not match sha256 ' + env.ARTIFACT_SHA256);
  mkdirSync('/tmp/harness', { recursive: true });
  writeFileSync('/tmp/harness.tgz', body);
  execFileSync('tar', ['-xzf', '/tmp/harness.tgz', '-C', '/tmp/harness']);
  const child = spawn(process.execPath, ['/tmp/harness/loadtest/run.mjs', ...JSON.parse(env.HARNESS_ARGS || '[]')], { stdio: 'inherit', cwd: '/tmp/harness' });
  process.on('SIGTERM', () => child.kill('SIGTERM'));
  child.on('exit', (code) => process.exit(code ?? 1));
})().catch((e) => { console.error('loadgen: ' + e.message); process.exit(1); });
`.trim();
