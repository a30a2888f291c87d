// A generator process (forked by local.ts): runs its shard of the profile, tells the parent when
// setup is done, starts at the time the parent agrees with every generator, relays its lines and
// status, and writes its result.json for the parent to merge. It never outlives its parent.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { loadProfile, ProfileError } from '../profile/load.js';
import { Progress, type Status } from '../progress.js';
import { runProfile } from '../runner.js';
import { resolveTarget } from '../target.js';
import { UsageError } from '../usage-error.js';
import type { FromGenerator, GeneratorJob, ToGenerator } from './messages.js';

/** Passes the run's lines and status to the parent instead of drawing them. */
class RelayProgress extends Progress {
  constructor(private readonly send: (m: FromGenerator) => void) {
    super(process.stderr, true);
  }
  override line(text: string): void {
    this.send({ type: 'line', text });
  }
  override status(text: string): void {
    this.send({ type: 'status', text });
  }
  override update(status: Status): void {
    this.send({ type: 'update', status });
  }
}

function send(m: FromGenerator): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send || !process.connected) return resolve();
    process.send(m, undefined, {}, () => resolve());
  });
}

async function run(job: GeneratorJob, started: Promise<Date>): Promise<void> {
  const profile = loadProfile(job.profile);
  const target = await resolveTarget(job.target, job.targetOptions);
  if (!job.probe) target.probe = undefined;
  const result = await runProfile({
    profile,
    target,
    shard: job.shard,
    runId: job.runId,
    progress: new RelayProgress((m) => void send(m)),
    ready: async () => {
      await send({ type: 'ready' });
      return started;
    },
  });
  await mkdir(dirname(job.resultFile), { recursive: true });
  await writeFile(job.resultFile, `${JSON.stringify(result)}\n`);
  await send({ type: 'done', passed: result.passed });
}

if (!process.send) {
  process.stderr.write('this is a generator process: ./loadtest/run.mjs --generators N starts it\n');
  process.exit(1);
}
process.on('disconnect', () => process.exit(1));
let startAt: (d: Date) => void = () => undefined;
const started = new Promise<Date>((resolve) => (startAt = resolve));
process.on('message', (m: ToGenerator) => {
  if (m.type === 'start') startAt(new Date(m.at));
  if (m.type === 'job') {
    run(m.job, started).then(
      () => process.exit(0),
      async (e: unknown) => {
        const usage = e instanceof UsageError || e instanceof ProfileError;
        await send({ type: 'error', message: (e as Error).message, usage });
        if (!usage) process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
        process.exit(1);
      },
    );
  }
});
