// The smoke check: the shop answers through its public URL (CloudFront → ALB → a service), retried
// until a deadline because a fresh distribution takes a while to answer.
import { sleep } from '../aws/retry.js';
import { type TaskContext, type TaskOutcome, ok, skipped } from '../runner.js';

export interface SmokeArgs {
  baseUrl: string | undefined;
  paths: string[];
  timeoutMs: number;
  pollMs: number;
}

export async function smokeCheck(args: SmokeArgs, ctx: TaskContext): Promise<TaskOutcome> {
  if (ctx.check) return skipped('--check: nothing was deployed to check');
  if (!args.baseUrl) return skipped('no public URL among the stack outputs');
  const deadline = Date.now() + args.timeoutMs;
  const results: string[] = [];
  for (const path of args.paths) {
    const url = new URL(path, args.baseUrl).toString();
    let last = '';
    for (;;) {
      try {
        const res = await fetch(url, { signal: AbortSignal.any([ctx.signal, AbortSignal.timeout(10_000)]), redirect: 'follow' });
        await res.arrayBuffer();
        if (res.ok) break;
        last = `HTTP ${res.status}`;
      } catch (err) {
        if (ctx.signal.aborted) throw err;
        last = (err as Error).message;
      }
      if (Date.now() >= deadline) throw new Error(`${url} did not answer 2xx within ${Math.round(args.timeoutMs / 1000)}s (last: ${last})`);
      ctx.progress(`${url}: ${last}, trying again`);
      await sleep(args.pollMs, ctx.signal);
    }
    results.push(path);
  }
  return ok(`${args.baseUrl} answers (${results.join(', ')})`);
}
