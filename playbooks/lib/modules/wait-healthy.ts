// The wait-for-healthy module: every registered target of a service's target group healthy,
// within a timeout. Progress shows the counts as they change; a timeout names the unhealthy
// targets and why the load balancer thinks so.
import type { Elbv2Api, TargetState } from '../aws/elbv2.js';
import { sleep } from '../aws/retry.js';
import { type TaskContext, type TaskOutcome, ok, skipped } from '../runner.js';

export interface WaitHealthyArgs {
  service: string;
  targetGroupArn: string | undefined;
  /** At least this many healthy targets (the ASG's desired capacity). */
  minHealthy: number;
  timeoutMs: number;
  pollMs: number;
}

const summary = (targets: TargetState[]): string => {
  const n: Record<string, number> = {};
  for (const t of targets) n[t.state] = (n[t.state] ?? 0) + 1;
  return Object.entries(n).map(([s, c]) => `${c} ${s}`).join(', ') || 'no targets';
};

export async function waitHealthy(args: WaitHealthyArgs, api: Elbv2Api, ctx: TaskContext): Promise<TaskOutcome> {
  if (!args.targetGroupArn) return skipped(`${args.service} has no target group yet`);
  const deadline = Date.now() + args.timeoutMs;
  let last = '';
  let targets: TargetState[] = [];
  for (;;) {
    targets = await api.targetHealth(args.targetGroupArn);
    const healthy = targets.filter((t) => t.state === 'healthy').length;
    const now = summary(targets);
    if (now !== last) ctx.progress(`${args.service}: ${now}`);
    last = now;
    if (healthy >= args.minHealthy && healthy === targets.length) return ok(`${healthy}/${targets.length} targets healthy`);
    if (Date.now() >= deadline) break;
    await sleep(args.pollMs, ctx.signal);
  }
  const bad = targets.filter((t) => t.state !== 'healthy').map((t) => `${t.id} ${t.state}${t.reason ? ` (${t.reason})` : ''}`);
  throw new Error(
    `${args.service}: not healthy within ${Math.round(args.timeoutMs / 1000)}s (${summary(targets)}, need ${args.minHealthy})` +
      (bad.length ? `\n${bad.join('\n')}` : ''),
  );
}
