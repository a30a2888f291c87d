// What a person sees while a playbook runs: one line per task as it finishes, progress lines as
// they arrive (stack events, uploads), and on a terminal a live status line naming the tasks still
// running and for how long. Without a TTY there is no status line and no colour, so CI logs stay
// plain text.
import { createInterface } from 'node:readline/promises';
import type { Readable, Writable } from 'node:stream';

/** The four outcomes of a task, as its line shows them (the runner decides which). */
export type TaskStatus = 'ok' | 'changed' | 'skipped' | 'failed';

const COLOURS: Record<TaskStatus | 'dim' | 'bold' | 'loud', [number, number]> = {
  ok: [32, 39],
  changed: [33, 39],
  skipped: [36, 39],
  failed: [31, 39],
  dim: [2, 22],
  bold: [1, 22],
  loud: [41, 49],
};

export interface OutputOptions {
  out?: Writable & { isTTY?: boolean };
  input?: Readable & { isTTY?: boolean };
  /** Overrides the TTY detection (tests). */
  tty?: boolean;
  verbose?: boolean;
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

export class Output {
  readonly tty: boolean;
  readonly verbose: boolean;
  private readonly out: Writable;
  private readonly input: Readable & { isTTY?: boolean };
  private readonly running = new Map<string, number>();
  private statusShown = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(opts: OutputOptions = {}) {
    this.out = opts.out ?? process.stdout;
    this.input = opts.input ?? process.stdin;
    this.tty = opts.tty ?? Boolean((opts.out ?? process.stdout).isTTY);
    this.verbose = opts.verbose ?? false;
  }

  /** Whether a person can answer a question (both ends are a terminal). */
  get interactive(): boolean {
    return this.tty && Boolean(this.input.isTTY);
  }

  paint(kind: keyof typeof COLOURS, text: string): string {
    if (!this.tty) return text;
    const [on, off] = COLOURS[kind];
    return `\x1b[${on}m${text}\x1b[${off}m`;
  }

  /** A permanent line (or several). */
  line(text = ''): void {
    this.clearStatus();
    this.out.write(text.endsWith('\n') ? text : `${text}\n`);
    this.drawStatus();
  }

  taskStarted(name: string): void {
    this.running.set(name, Date.now());
    if (!this.tty) return;
    this.timer ??= setInterval(() => {
      this.clearStatus();
      this.drawStatus();
    }, 1000).unref();
    this.clearStatus();
    this.drawStatus();
  }

  taskFinished(name: string): void {
    this.running.delete(name);
    if (this.running.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
    this.clearStatus();
    this.drawStatus();
  }

  /** A progress line for a running task, printed as it arrives. */
  progress(task: string, text: string): void {
    this.line(`  ${this.paint('dim', `[${task}]`)} ${text}`);
  }

  /** A line shown only with -v. */
  detail(task: string, text: string): void {
    if (this.verbose) this.progress(task, text);
  }

  async ask(question: string): Promise<string> {
    this.clearStatus();
    const rl = createInterface({ input: this.input, output: this.out, terminal: this.tty });
    try {
      return (await rl.question(question)).trim();
    } finally {
      rl.close();
      this.drawStatus();
    }
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.running.clear();
    this.clearStatus();
  }

  private clearStatus(): void {
    if (this.statusShown) {
      this.out.write('\r\x1b[2K');
      this.statusShown = false;
    }
  }

  private drawStatus(): void {
    if (!this.tty || this.running.size === 0) return;
    const now = Date.now();
    const parts = [...this.running].map(([name, since]) => `${name} (${formatDuration(now - since)})`);
    const text = `… ${parts.join(', ')}`;
    const width = (this.out as { columns?: number }).columns ?? 100;
    this.out.write(this.paint('dim', text.length > width - 1 ? `${text.slice(0, width - 2)}…` : text));
    this.statusShown = true;
  }
}
