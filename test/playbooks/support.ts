// Helpers for playbook tests: default options, captured output, a play to run tasks in.
import { Writable } from 'node:stream';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { parseCli, type PlaybookOptions } from '../../playbooks/lib/cli.js';
import { Output } from '../../playbooks/lib/output.js';
import { Play, PlayStopped, type TaskOutcome, type TaskContext } from '../../playbooks/lib/runner.js';
import { SdkCloudFormation } from '../../playbooks/lib/aws/cloudformation.js';
import type { RetryPolicy } from '../../playbooks/lib/aws/retry.js';

export const FAST_RETRY: RetryPolicy = { attempts: 4, baseDelayMs: 1, maxDelayMs: 2 };
export const TEST_CREDENTIALS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'not-a-real-secret' };

export function options(argv: string[] = []): PlaybookOptions {
  return parseCli(argv);
}

export class Captured extends Writable {
  text = '';
  override _write(chunk: Buffer | string, _enc: BufferEncoding, cb: () => void): void {
    this.text += chunk.toString();
    cb();
  }
}

export function capturedOutput(opts: { tty?: boolean } = {}): { output: Output; out: Captured } {
  const out = new Captured();
  return { output: new Output({ out, tty: opts.tty ?? false }), out };
}

/** Runs one task through a play; resolves its outcome (failed included) and the printed text. */
export async function runTask(argv: string[], run: (ctx: TaskContext) => Promise<TaskOutcome>): Promise<{ outcome: TaskOutcome; text: string; play: Play }> {
  const { output, out } = capturedOutput();
  const play = new Play({ playbook: 'test', title: 'test', options: options(argv), output });
  let outcome: TaskOutcome;
  try {
    outcome = await play.task({ name: 'stack', run });
  } catch (err) {
    if (!(err instanceof PlayStopped)) throw err;
    const rec = play.records.at(-1)!;
    outcome = { status: rec.status, message: rec.message };
  }
  return { outcome, text: out.text, play };
}

export function cloudFormationApi(): SdkCloudFormation {
  return new SdkCloudFormation(new CloudFormationClient({ region: 'eu-west-1', credentials: TEST_CREDENTIALS }), FAST_RETRY);
}
