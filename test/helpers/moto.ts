// An AWS emulator for one test file: moto's server (test/emulator/moto_server.py: moto 5.2.1 with
// the suite's named fixes) on a free 127.0.0.1 port, the environment a child process needs to use
// it (endpoint, fake credentials, region, nothing read from ~/.aws), and SDK v3 client settings
// for checks from the test itself. It is stopped at the end of the file, and also when tap ends
// the file for a timeout (SIGALRM then SIGKILL half a second later, too soon for a teardown):
// signal-exit stops it on the signal, and the launcher exits by itself once the test process's
// end of its stdin closes, whatever ended the test process.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { onExit } from 'signal-exit';
import { ROOT } from './processes.js';

// The SDK clients a test makes would warn about Node 20 on every run, as playbooks/lib/aws/clients.ts
// says for the scripts; the lockfile pins today's SDK, so the warning tells a test nothing.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export const MOTO_LAUNCHER = join(ROOT, 'test/emulator/moto_server.py');
/** The account moto answers for (GetCallerIdentity). */
export const MOTO_ACCOUNT = '123456789012';

export interface MotoOptions {
  /** Region of the environment and of the SDK settings (default eu-west-1, the inventories' region). */
  region?: string;
  /** Launcher fixes to leave out for the whole server ("all" for plain moto). */
  without?: string[];
  /** How long moto may take to answer (default 90 s: it imports every service it emulates). */
  startTimeoutMs?: number;
}

export interface Moto {
  endpoint: string;
  region: string;
  pid: number;
  /**
   * The AWS part of a child process's environment: endpoint, fake credentials, region, and no
   * profile, config or credentials file read. Give a child exactly this plus PATH and the like,
   * never process.env (a developer's AWS_PROFILE would leak in).
   */
  env: Record<string, string>;
  /** Settings for an SDK v3 client of this emulator (S3 needs path-style addressing). */
  clientConfig(): { region: string; endpoint: string; forcePathStyle: boolean; maxAttempts: number; credentials: { accessKeyId: string; secretAccessKey: string } };
  /** Everything moto wrote so far (its request log and any traceback), for failure messages. */
  log(): string;
  /** Stops the server and waits until it is gone; the file's teardown calls it too. */
  stop(): Promise<void>;
}

export interface Teardown {
  teardown(fn: () => unknown): void;
}

/** Starts moto for this test file; resolves once it answers HTTP. */
export async function startMoto(t: Teardown, opts: MotoOptions = {}): Promise<Moto> {
  const region = opts.region ?? 'eu-west-1';
  const args = [MOTO_LAUNCHER, '--port', '0', '--exit-on-stdin-eof', ...(opts.without?.length ? ['--without', opts.without.join(',')] : [])];
  const child = spawn('python3', args, {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', PYTHONUNBUFFERED: '1', PYTHONWARNINGS: 'ignore' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (d: Buffer): void => {
    output = (output + d.toString()).slice(-200_000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const removeExitGuard = onExit(() => {
    // Synchronous: the test process is going down (tap's timeout, Ctrl-C, an uncaught error).
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopped ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const killLater = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(killLater);
      }
      removeExitGuard();
    })());
  t.teardown(stop);

  const endpoint = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => fail(`moto did not start within ${(opts.startTimeoutMs ?? 90_000) / 1000}s`), opts.startTimeoutMs ?? 90_000);
    const fail = (why: string): void => {
      clearTimeout(timer);
      reject(new Error(`${why}; is moto 5.2.1 installed (pip install 'moto[server]==5.2.1')?\n${output.slice(-3000)}`));
    };
    child.once('error', (err) => fail(`python3 ${args.join(' ')}: ${err.message}`));
    child.once('exit', (code, signal) => fail(`moto_server.py exited (${code ?? signal})`));
    child.stdout.on('data', () => {
      const m = /listening on (http:\/\/\S+)/.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
  });
  // The line comes once the socket is bound; one request proves it is served.
  await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(30_000) }).then((r) => r.arrayBuffer());

  return {
    endpoint,
    region,
    pid: child.pid!,
    env: {
      AWS_ENDPOINT_URL: endpoint,
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      AWS_REGION: region,
      AWS_DEFAULT_REGION: region,
      AWS_CONFIG_FILE: '/dev/null',
      AWS_SHARED_CREDENTIALS_FILE: '/dev/null',
      AWS_EC2_METADATA_DISABLED: 'true',
    },
    clientConfig: () => ({ region, endpoint, forcePathStyle: true, maxAttempts: 1, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } }),
    log: () => output,
    stop,
  };
}

/**
 * Makes every request of an SDK client go without the named launcher fixes (the
 * X-Saleday-Moto-Without header): one server shows what fails without each fix.
 */
export function withoutFixes<T extends { middlewareStack: { add(...args: any[]): void } }>(client: T, fixes: string[]): T {
  const header = (next: (args: { request: unknown }) => Promise<unknown>) => (args: { request: unknown }) => {
    const request = args.request as { headers?: Record<string, string> };
    if (request.headers) request.headers['x-saleday-moto-without'] = fixes.join(',');
    return next(args);
  };
  client.middlewareStack.add(header, { step: 'build', name: 'saledayMotoWithout' });
  return client;
}
