// One worker = one child process on its own port (one "instance" of the group): started as
// `node <program>` with PORT/HOST, its output (stdout and stderr) appended to the service's log
// file, never to a pipe to the supervisor (a worker outlives a supervisor that crashed, and must
// not die writing to a closed pipe); the log's tail since the launch explains a failed start. It
// is stopped with SIGTERM (the kit drains and exits 0), SIGKILL only when it overstays.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import type { LocalWorkerState } from '../environment/index.js';
import { minimalEnv } from './process-env.js';

export interface WorkerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface WorkerLaunch {
  id: string;
  service: string;
  program: string;
  nodeArgs: readonly string[];
  args: readonly string[];
  env: Readonly<Record<string, string>>;
  host: string;
  port: number;
  /** File descriptor the worker's stdout and stderr are appended to, and that file's path. */
  logFd: number;
  logPath: string;
  launchSpec: string;
  artifact: string;
}

export class WorkerProcess {
  readonly id: string;
  readonly service: string;
  readonly port: number;
  readonly launchSpec: string;
  readonly artifact: string;
  readonly launchedAt = Date.now();
  readonly exited: Promise<WorkerExit>;
  state: LocalWorkerState = 'starting';
  /** When it first passed its health check. */
  inServiceAt: number | undefined;
  exit: WorkerExit | undefined;
  /** Set once the fleet decided to stop it, so its exit is not taken for a crash. */
  retiring = false;
  private readonly child: ChildProcess;
  private readonly logPath: string;
  private readonly logOffset: number;

  constructor(launch: WorkerLaunch) {
    this.id = launch.id;
    this.service = launch.service;
    this.port = launch.port;
    this.launchSpec = launch.launchSpec;
    this.artifact = launch.artifact;
    // Only what a process needs to run; everything else comes from the spec (configured by env only).
    const env = minimalEnv({ ...launch.env, PORT: String(launch.port), HOST: launch.host });
    this.logPath = launch.logPath;
    this.logOffset = fstatSync(launch.logFd).size;
    this.child = spawn(process.execPath, [...launch.nodeArgs, launch.program, ...launch.args], {
      env,
      stdio: ['ignore', launch.logFd, launch.logFd],
    });
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
      });
      this.child.once('error', () => {
        this.exit ??= { code: null, signal: null };
        resolve(this.exit);
      });
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get alive(): boolean {
    return this.exit === undefined;
  }

  /** The last lines written to the service's log since this worker started (why it failed to start). */
  lastError(): string {
    let text = '';
    try {
      const fd = openSync(this.logPath, 'r');
      try {
        const end = fstatSync(fd).size;
        const from = Math.max(this.logOffset, end - 4000);
        const buf = Buffer.alloc(Math.max(0, end - from));
        readSync(fd, buf, 0, buf.length, from);
        text = buf.toString('utf8');
      } finally {
        closeSync(fd);
      }
    } catch {
      return '';
    }
    return text.trim().split('\n').slice(-3).join(' | ');
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves with how it exited. */
  async stop(graceMs: number): Promise<WorkerExit> {
    if (!this.alive) return this.exited;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    const exit = await this.exited;
    clearTimeout(timer);
    return exit;
  }

  kill(): void {
    if (this.alive) this.child.kill('SIGKILL');
  }
}

export function describeExit(exit: WorkerExit | undefined): string {
  if (!exit) return 'still running';
  if (exit.signal) return `killed by ${exit.signal}`;
  return `exit code ${exit.code}`;
}
