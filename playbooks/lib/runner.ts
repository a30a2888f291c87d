// The play runner: named tasks in order (or in parallel where independent), each reporting ok /
// changed / skipped / failed with a reason, a PLAY RECAP, an exit code for CI and an optional JSON
// record. Targets (aws, local) bring their own modules; the runner knows nothing about AWS.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { PlaybookOptions } from './cli.js';
import { ApprovalRequiredError, InterruptedError, errorMessage } from './errors.js';
import { Output, formatDuration, type TaskStatus } from './output.js';

export type { TaskStatus } from './output.js';

export interface TaskOutcome {
  status: TaskStatus;
  /** Why: what was done, what would be done (--check), why it was skipped or failed. */
  message?: string | undefined;
  /** Values later tasks use (stack outputs, artifact keys). Never secret values. */
  data?: Record<string, string> | undefined;
}

export const ok = (message?: string, data?: Record<string, string>): TaskOutcome => ({ status: 'ok', message, data });
export const changed = (message?: string, data?: Record<string, string>): TaskOutcome => ({ status: 'changed', message, data });
export const skipped = (message?: string, data?: Record<string, string>): TaskOutcome => ({ status: 'skipped', message, data });
export const failed = (message: string): TaskOutcome => ({ status: 'failed', message });

export interface TaskContext {
  readonly name: string;
  readonly options: PlaybookOptions;
  /** --check: change nothing anywhere, say what would be done. */
  readonly check: boolean;
  /** Aborted on Ctrl-C: long waits stop and say what is still running. */
  readonly signal: AbortSignal;
  /** A progress line, printed as it arrives. */
  progress(text: string): void;
  /** A line shown with -v only. */
  detail(text: string): void;
  /** A block printed as is (a review, a diff). */
  print(text: string): void;
  /**
   * Asks for approval: --yes approves, a terminal asks, and without either an
   * ApprovalRequiredError says how to approve. Resolves false when a person answers no.
   */
  confirm(question: string, howToApprove: string): Promise<boolean>;
  /** While `describe` is registered, Ctrl-C prints what it returns (what is still running). */
  whileRunning(describe: () => string): () => void;
}

export interface TaskSpec {
  name: string;
  tags?: string[];
  /** The service this task belongs to; --limit skips tasks of other services. */
  service?: string;
  run(ctx: TaskContext): Promise<TaskOutcome>;
}

export interface TaskRecord {
  name: string;
  status: TaskStatus;
  message?: string | undefined;
  tags: string[];
  service?: string | undefined;
  startedAt: string;
  durationMs: number;
  data?: Record<string, string> | undefined;
}

export interface RunRecord {
  playbook: string;
  title: string;
  check: boolean;
  startedAt: string;
  durationMs: number;
  tasks: TaskRecord[];
  /** What the play warned about (a past sale event, …); warnings do not fail a run. */
  warnings: string[];
  recap: Record<TaskStatus, number>;
  exitCode: number;
}

/** Thrown by Play.task after a failed task: the rest of the play does not run. */
export class PlayStopped extends Error {
  constructor() {
    super('play stopped after a failed task');
    this.name = 'PlayStopped';
  }
}

export const EXIT = { ok: 0, usage: 1, failed: 2, changesPresent: 3, interrupted: 130 } as const;

export interface PlayConfig {
  playbook: string;
  title: string;
  options: PlaybookOptions;
  output?: Output;
}

export class Play {
  readonly options: PlaybookOptions;
  readonly output: Output;
  readonly records: TaskRecord[] = [];
  readonly warnings: string[] = [];
  readonly title: string;
  readonly playbook: string;
  interrupted = false;
  private readonly abort = new AbortController();
  private readonly running = new Set<() => string>();
  private approvals: Promise<unknown> = Promise.resolve();
  private readonly startedAt = Date.now();

  constructor(config: PlayConfig) {
    this.options = config.options;
    this.playbook = config.playbook;
    this.title = config.title;
    this.output = config.output ?? new Output({ verbose: config.options.verbose });
  }

  get signal(): AbortSignal {
    return this.abort.signal;
  }

  /** Whether tags and --limit select a task (unselected tasks are reported skipped). */
  selected(spec: Pick<TaskSpec, 'tags' | 'service'>): string | undefined {
    const tags = spec.tags ?? [];
    const o = this.options;
    if (o.limit !== undefined && spec.service !== undefined && spec.service !== o.limit) return `not in --limit ${o.limit}`;
    if (o.skipTags.some((t) => tags.includes(t))) return `tagged ${tags.filter((t) => o.skipTags.includes(t)).join(',')} (--skip-tags)`;
    if (o.tags.length && !tags.includes('always') && !o.tags.some((t) => tags.includes(t))) return `no tag in --tags ${o.tags.join(',')}`;
    return undefined;
  }

  /** Runs one task; after a failure throws PlayStopped so the rest of the play does not run. */
  async task(spec: TaskSpec): Promise<TaskOutcome> {
    const outcome = await this.runOne(spec);
    if (outcome.status === 'failed') throw new PlayStopped();
    return outcome;
  }

  /** Runs independent tasks together; the play stops after them when one failed. */
  async parallel(specs: TaskSpec[]): Promise<TaskOutcome[]> {
    const outcomes = await Promise.all(specs.map((s) => this.runOne(s)));
    if (outcomes.some((o) => o.status === 'failed')) throw new PlayStopped();
    return outcomes;
  }

  /** A warning about the run as a whole, shown as it is found and kept in the --json record. */
  warn(text: string): void {
    this.warnings.push(text);
    this.output.line(`${this.output.paint('changed', 'warning:')} ${text}`);
  }

  /** What the run left out that nobody may miss (--skip-preflight): a warning, said again under the recap. */
  readonly notices: string[] = [];
  notice(text: string): void {
    this.notices.push(text);
    this.warn(text);
  }

  /** Lines the recap ends with (a rehearsal's verdict and cost). */
  readonly summary: string[] = [];

  /** Prints a block outside any task (the URL at the end, a hint). */
  print(text: string): void {
    this.output.line(text);
  }

  /** Ctrl-C: stop waiting, say what is still running. */
  interrupt(): void {
    if (this.interrupted) return;
    this.interrupted = true;
    const still = [...this.running].map((d) => d()).filter(Boolean);
    this.output.line(this.output.paint('failed', 'Interrupted.'));
    for (const line of still) this.output.line(`  still running: ${line}`);
    if (!still.length) this.output.line('  nothing was left running.');
    this.abort.abort(new InterruptedError('interrupted'));
  }

  counts(): Record<TaskStatus, number> {
    const c: Record<TaskStatus, number> = { ok: 0, changed: 0, skipped: 0, failed: 0 };
    for (const r of this.records) c[r.status] += 1;
    return c;
  }

  exitCode(): number {
    const c = this.counts();
    if (this.interrupted) return EXIT.interrupted;
    if (c.failed > 0) return EXIT.failed;
    if (this.options.check && this.options.detailedExitcode && c.changed > 0) return EXIT.changesPresent;
    return EXIT.ok;
  }

  recap(): void {
    const c = this.counts();
    const o = this.output;
    const parts = [
      o.paint('ok', `ok=${c.ok}`),
      o.paint('changed', `changed=${c.changed}`),
      o.paint('skipped', `skipped=${c.skipped}`),
      o.paint(c.failed ? 'failed' : 'dim', `failed=${c.failed}`),
    ];
    o.line();
    o.line(`PLAY RECAP ${o.paint('dim', '*'.repeat(40))}`);
    o.line(`${this.title}  ${parts.join('  ')}  (${formatDuration(Date.now() - this.startedAt)})`);
    for (const line of this.summary) o.line(line);
    for (const n of this.notices) o.line(o.paint('failed', `!!! ${n}`));
  }

  record(): RunRecord {
    return {
      playbook: this.playbook,
      title: this.title,
      check: this.options.check,
      startedAt: new Date(this.startedAt).toISOString(),
      durationMs: Date.now() - this.startedAt,
      tasks: this.records,
      warnings: this.warnings,
      recap: this.counts(),
      exitCode: this.exitCode(),
    };
  }

  private async runOne(spec: TaskSpec): Promise<TaskOutcome> {
    const started = Date.now();
    const notSelected = this.selected(spec);
    let outcome: TaskOutcome;
    if (notSelected) {
      outcome = skipped(notSelected);
    } else if (this.interrupted) {
      outcome = skipped('interrupted before it started');
    } else {
      this.output.taskStarted(spec.name);
      try {
        outcome = await spec.run(this.context(spec));
      } catch (err) {
        outcome = failed(this.describeFailure(err));
      } finally {
        this.output.taskFinished(spec.name);
      }
    }
    const rec: TaskRecord = {
      name: spec.name,
      status: outcome.status,
      message: outcome.message,
      tags: spec.tags ?? [],
      service: spec.service,
      startedAt: new Date(started).toISOString(),
      durationMs: Date.now() - started,
      data: outcome.data,
    };
    this.records.push(rec);
    this.printOutcome(rec);
    return outcome;
  }

  private describeFailure(err: unknown): string {
    if (this.interrupted || err instanceof InterruptedError) return 'interrupted (Ctrl-C)';
    if (this.options.verbose && err instanceof Error && err.stack && !(err instanceof ApprovalRequiredError)) return err.stack;
    return errorMessage(err);
  }

  private printOutcome(rec: TaskRecord): void {
    const o = this.output;
    const label = o.paint(rec.status, `${rec.status}:`);
    const took = rec.durationMs >= 1000 ? o.paint('dim', ` (${formatDuration(rec.durationMs)})`) : '';
    const [first, ...rest] = (rec.message ?? '').split('\n');
    o.line(`${label} [${rec.name}]${first ? ` ${first}` : ''}${took}`);
    for (const line of rest) o.line(`    ${line}`);
  }

  private context(spec: TaskSpec): TaskContext {
    const o = this.output;
    return {
      name: spec.name,
      options: this.options,
      check: this.options.check,
      signal: this.abort.signal,
      progress: (text) => o.progress(spec.name, text),
      detail: (text) => o.detail(spec.name, text),
      print: (text) => o.line(text),
      confirm: (question, howToApprove) => {
        // One question at a time, even when tasks run in parallel.
        const answer = this.approvals.then(async () => {
          if (this.options.yes) return true;
          if (!o.interactive) throw new ApprovalRequiredError(`${question}: not approved (no terminal to ask and no --yes). ${howToApprove}`);
          const reply = await o.ask(`${question} [y/N] `);
          return /^y(es)?$/i.test(reply);
        });
        this.approvals = answer.catch(() => undefined);
        return answer;
      },
      whileRunning: (describe) => {
        this.running.add(describe);
        return () => this.running.delete(describe);
      },
    };
  }
}

/**
 * Runs a play body: prints its title, catches the stop after a failure, handles Ctrl-C, prints
 * the recap, writes --json, and returns the exit code.
 */
export async function runPlay(config: PlayConfig, body: (play: Play) => Promise<void>): Promise<number> {
  const play = new Play(config);
  const o = play.output;
  const mode = [config.options.check ? 'check mode' : '', config.options.limit ? `limit ${config.options.limit}` : ''].filter(Boolean);
  o.line(`PLAY [${play.title}]${mode.length ? ` (${mode.join(', ')})` : ''} ${o.paint('dim', '*'.repeat(20))}`);
  const onSigint = (): void => {
    if (play.interrupted) process.exit(EXIT.interrupted);
    play.interrupt();
  };
  process.on('SIGINT', onSigint);
  try {
    await body(play);
  } catch (err) {
    if (!(err instanceof PlayStopped)) {
      // A failure outside any task (a bug or a bad inventory read by the body): say it, fail the run.
      play.records.push({ name: 'play', status: 'failed', message: errorMessage(err), tags: [], startedAt: new Date().toISOString(), durationMs: 0 });
      o.line(`${o.paint('failed', 'failed:')} ${config.options.verbose && err instanceof Error ? err.stack : errorMessage(err)}`);
    }
  } finally {
    process.off('SIGINT', onSigint);
    o.close();
  }
  play.recap();
  if (config.options.json) {
    await mkdir(dirname(config.options.json), { recursive: true });
    await writeFile(config.options.json, `${JSON.stringify(play.record(), null, 2)}\n`);
  }
  return play.exitCode();
}
