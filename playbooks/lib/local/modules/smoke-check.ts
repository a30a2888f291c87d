// The local smoke check: the shop answers through the gateway (a catalog read when the catalog is
// deployed, and the storefront), then where to find it is printed. The AWS smoke check retries
// while a fresh distribution warms up; here the fleet is in service once applied, so one try each.
import { type TaskContext, type TaskOutcome, ok, skipped } from '../../runner.js';

export interface LocalSmokeArgs {
  /** The gateway's URL; empty when the fleet did not run. */
  gatewayUrl: string;
  paths: string[];
  /** Printed once the shop answers (its URL, the admin account, what to run next). */
  banner: string;
}

export async function localSmokeCheck(args: LocalSmokeArgs, ctx: TaskContext): Promise<TaskOutcome> {
  if (ctx.check || !args.gatewayUrl) return skipped(ctx.check ? '--check: nothing was deployed' : 'the fleet did not run');
  for (const path of args.paths) {
    const res = await fetch(new URL(path, args.gatewayUrl), { signal: AbortSignal.any([ctx.signal, AbortSignal.timeout(10_000)]) });
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`GET ${path} answered ${res.status} through ${args.gatewayUrl}`);
  }
  ctx.print(args.banner);
  return ok(`${args.gatewayUrl} answers`);
}
