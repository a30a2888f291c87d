// The aws target's online preflight checks: read-only calls (playbooks/lib/aws/preflight.ts) for
// quotas, instance type offerings, live certificates and the web ACL, colliding names and stuck
// stacks, the caller's permissions, and the deploy's duration estimate from the rendered stacks.
import { deployWaves } from '../../../cloudformation/index.js';
import { AwsClients } from '../aws/clients.js';
import { sdkPreflightAws } from '../aws/preflight.js';
import {
  checkCollisions, checkDuration, checkLiveCertificates, checkOfferings, checkPermissions, checkQuotas, type OnlineContext, type PreflightAws,
} from '../preflight/online.js';
import type { TargetRun } from '../targets.js';
import type { OnlineCheck, OnlineChecks } from './preflight.js';

/** The online checks on an interface (tests give scripted answers). */
export function onlineChecks(run: Pick<TargetRun, 'environment' | 'stacks'>, aws: PreflightAws): OnlineCheck[] {
  let ctx: OnlineContext | undefined;
  const context = (): OnlineContext => {
    if (!ctx) {
      const stacks = run.stacks.render();
      ctx = { inv: run.environment, stacks, aws, waves: deployWaves(stacks) };
    }
    return ctx;
  };
  return [
    { check: 'quotas', run: () => checkQuotas(context()) },
    { check: 'offerings', run: () => checkOfferings(context()) },
    { check: 'live certificates', run: () => checkLiveCertificates(context()) },
    { check: 'names', run: () => checkCollisions(context()) },
    { check: 'permissions', run: () => checkPermissions(context()) },
    { check: 'duration', run: () => checkDuration(context()) },
  ];
}

export function awsOnlineChecks(run: TargetRun, clients = new AwsClients({ region: run.environment.region, ...run.aws })): OnlineChecks {
  const opts = { signal: run.play.signal, onRetry: (what: string, attempt: number, delayMs: number, err: Error) => run.play.output.detail('aws', `${what}: ${err.name}, retry ${attempt} in ${delayMs}ms`) };
  const aws = sdkPreflightAws(clients, opts);
  return {
    credentials: async () => {
      await clients.checkCredentials();
      return `account ${await clients.accountId()}, region ${clients.region}`;
    },
    checks: onlineChecks(run, aws),
  };
}
