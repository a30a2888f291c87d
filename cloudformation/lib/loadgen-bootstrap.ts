// What a load-generator task runs first, on a stock Node.js image (no AWS CLI, no SDK): fetch the
// harness artifact from S3 with the task role's credentials (the ECS container credentials
// endpoint, SigV4-signed requests), refuse it unless its sha256 matches, unpack it, run
// ./loadtest/run.mjs with the launcher's arguments, and put what the harness writes to S3. The
// service instances do the same with the AWS CLI (user-data.ts). Plain CommonJS for `node -e`.
//
// The environment it reads (the task definition sets the first two; the launcher gives the rest
// per task in RunTask's containerOverrides):
//   ARTIFACT_BUCKET      the artifacts bucket (task definition)
//   RESULTS_BUCKET       where results go: the same bucket (task definition; an override must name
//                        a bucket the task role may write, i.e. this one)
//   ARTIFACT_KEY         artifacts/loadgen/<sha256>.tgz
//   ARTIFACT_SHA256      its sha256, hex; the artifact is refused (nothing runs) unless it matches
//   HARNESS_ARGS         the arguments of ./loadtest/run.mjs, a JSON array of strings
//   RESULTS_KEY_PREFIX   this task's results, `loadgen-results/<run id>/<shard>-of-<count>/` (must
//                        start with loadgen-results/ and end with /: the task role writes only there)
//   STATUS_INTERVAL_MS   optional, how often status.json is looked at (default 5000)
// and what ECS gives every task: AWS_REGION, AWS_CONTAINER_CREDENTIALS_RELATIVE_URI. The SDKs'
// standard AWS_CONTAINER_CREDENTIALS_FULL_URI (+ AWS_CONTAINER_AUTHORIZATION_TOKEN) and
// AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL (path-style requests to that endpoint) are honoured too,
// as an SDK would.
//
// The harness runs with cwd = the unpacked artifact and RESULTS_DIR = an empty directory of its
// own: it writes RESULTS_DIR/result.json when it ends and may rewrite RESULTS_DIR/status.json
// (whole file, by rename) while it runs. What lands in s3://RESULTS_BUCKET/RESULTS_KEY_PREFIX:
//   status.json  each time the harness's status.json changed (looked at every STATUS_INTERVAL_MS)
//   result.json  once, after the harness exits, if it wrote one
//   exit.json    last, always (also when the artifact was refused): {"code": <exit code>,
//                "signal": <signal or null>, "error": <why, when the bootstrap itself failed>,
//                "stderr": <the harness's last 4000 characters of stderr>}; its presence says the
//                task is done.
// The task exits with the harness's exit code (1 when the bootstrap failed; 143 after SIGTERM).
/** Where generator tasks write their results: <prefix><run id>/<shard>-of-<count>/... (the script below checks it). */
export const LOADGEN_RESULTS_PREFIX = 'loadgen-results/';

export const LOADGEN_BOOTSTRAP = `
const { createHash, createHmac } = require('node:crypto');
const { execFileSync, spawn } = require('node:child_process');
const { mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } = require('node:fs');
const { join } = require('node:path');
const { tmpdir } = require('node:os');
const env = process.env;
const sha = (s) => createHash('sha256').update(s).digest('hex');
const hmac = (k, s) => createHmac('sha256', k).update(s).digest();
let creds;
async function credentials() {
  if (creds && Date.parse(creds.Expiration) - Date.now() > 5 * 60000) return creds;
  const url = env.AWS_CONTAINER_CREDENTIALS_FULL_URI || 'http://169.254.170.2' + env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI;
  const res = await fetch(url, { headers: env.AWS_CONTAINER_AUTHORIZATION_TOKEN ? { authorization: env.AWS_CONTAINER_AUTHORIZATION_TOKEN } : {} });
  if (!res.ok) throw new Error('container credentials: HTTP ' + res.status);
  return (creds = await res.json());
}
async function s3(method, bucket, key, body) {
  const c = await credentials();
  const region = env.AWS_REGION;
  const endpoint = env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL;
  const base = endpoint ? new URL(endpoint) : new URL('https://' + bucket + '.s3.' + region + '.amazonaws.com');
  const path = (endpoint ? base.pathname.replace(/\\/$/, '') + '/' + bucket : '') + '/' + key.split('/').map(encodeURIComponent).join('/');
  const amz = new Date().toISOString().replace(/[-:]|\\.\\d{3}/g, '');
  const day = amz.slice(0, 8);
  const headers = { host: base.host, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', 'x-amz-date': amz };
  if (c.Token) headers['x-amz-security-token'] = c.Token;
  if (body) headers['content-type'] = 'application/json';
  const names = Object.keys(headers).sort();
  const canonical = [method, path, '', names.map((k) => k + ':' + headers[k] + '\\n').join(''), names.join(';'), 'UNSIGNED-PAYLOAD'].join('\\n');
  const scope = day + '/' + region + '/s3/aws4_request';
  let k = 'AWS4' + c.SecretAccessKey;
  for (const part of [day, region, 's3', 'aws4_request']) k = hmac(k, part);
  const signature = createHmac('sha256', k).update(['AWS4-HMAC-SHA256', amz, scope, sha(canonical)].join('\\n')).digest('hex');
  const { host, ...sent } = headers;
  const res = await fetch(base.protocol + '//' + host + path, { method, body, headers: { ...sent, authorization: 'AWS4-HMAC-SHA256 Credential=' + c.AccessKeyId + '/' + scope + ', SignedHeaders=' + names.join(';') + ', Signature=' + signature } });
  if (!res.ok) throw new Error(method + ' s3://' + bucket + '/' + key + ': HTTP ' + res.status);
  return Buffer.from(await res.arrayBuffer());
}
const ROOT = ${JSON.stringify(LOADGEN_RESULTS_PREFIX)};
const prefix = env.RESULTS_KEY_PREFIX || '';
const prefixOk = prefix.startsWith(ROOT) && prefix.endsWith('/') && prefix.length > ROOT.length + 1;
const results = env.RESULTS_BUCKET || env.ARTIFACT_BUCKET;
const put = (name, text) => s3('PUT', results, prefix + name, text);
let stderr = '';
(async () => {
  const artifact = 's3://' + env.ARTIFACT_BUCKET + '/' + env.ARTIFACT_KEY;
  if (!prefixOk) throw new Error('RESULTS_KEY_PREFIX must be ' + ROOT + '<run id>/<shard>/ (got "' + prefix + '")');
  const args = JSON.parse(env.HARNESS_ARGS || '[]');
  if (!Array.isArray(args) || args.some((a) => typeof a !== 'string')) throw new Error('HARNESS_ARGS must be a JSON array of strings');
  const body = await s3('GET', env.ARTIFACT_BUCKET, env.ARTIFACT_KEY);
  if (sha(body) !== env.ARTIFACT_SHA256) throw new Error('artifact ' + artifact + ' does not match sha256 ' + env.ARTIFACT_SHA256 + ': refused, nothing run');
  const work = mkdtempSync(join(tmpdir(), 'loadgen-'));
  const harness = join(work, 'harness');
  const out = join(work, 'results');
  mkdirSync(harness);
  mkdirSync(out);
  writeFileSync(join(work, 'harness.tgz'), body);
  execFileSync('tar', ['-xzf', join(work, 'harness.tgz'), '-C', harness]);
  const child = spawn(process.execPath, [join(harness, 'loadtest/run.mjs'), ...args], { stdio: ['ignore', 'inherit', 'pipe'], cwd: harness, env: { ...env, RESULTS_DIR: out } });
  child.stderr.on('data', (d) => { process.stderr.write(d); stderr = (stderr + d).slice(-4000); });
  process.on('SIGTERM', () => child.kill('SIGTERM'));
  // status.json: put again whenever the harness rewrote it; one put at a time.
  let sent = 0;
  const status = async () => {
    let m;
    try { m = statSync(join(out, 'status.json')).mtimeMs; } catch { return; }
    if (m === sent) return;
    sent = m;
    await put('status.json', readFileSync(join(out, 'status.json'))).catch((e) => console.error('loadgen: ' + e.message));
  };
  let busy = Promise.resolve();
  const timer = setInterval(() => { busy = busy.then(status); }, Number(env.STATUS_INTERVAL_MS) || 5000);
  const [code, signal] = await new Promise((resolve) => child.on('exit', (c, s) => resolve([c, s])));
  clearInterval(timer);
  await busy;
  await status();
  let result;
  try { result = readFileSync(join(out, 'result.json')); } catch {}
  if (result) await put('result.json', result);
  await put('exit.json', JSON.stringify({ code, signal, stderr }));
  process.exit(code ?? (signal === 'SIGTERM' ? 143 : 1));
})().catch(async (e) => {
  console.error('loadgen: ' + e.message);
  if (prefixOk) await put('exit.json', JSON.stringify({ code: 1, signal: null, error: e.message, stderr })).catch((f) => console.error('loadgen: ' + f.message));
  process.exit(1);
});
`.trim();
