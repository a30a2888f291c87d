// The target-tracking decision, as EC2 Auto Scaling makes it, as a pure function, over the two
// policies every Auto Scaling group has (cloudformation/service.ts): average CPU, and requests per
// target per minute (ALBRequestCountPerTarget; here the gateway's requests to the group's backend)
// when the policy names a requestsPerTarget. As with several target-tracking policies on AWS, the
// group scales out to what the most demanding policy asks for, and in only when every policy
// agrees:
// - scale out proportionally: desired = ceil(contributing × metric / target), clamped to [min, max];
//   workers still warming count toward desired capacity but not toward the metric, so a
//   scale-out already under way is not repeated while its workers warm up;
// - scale in one worker at a time, never while a worker warms up, never within the cool-down of
//   the previous scaling activity, and only when one worker fewer would still stay at or under
//   90% of the target (ceil(n × metric / (0.9 × target)) < n): the margin AWS keeps between its
//   scale-out and scale-in alarms, so a group near its target does not flap between n and n-1.
import type { ScalingPolicy } from './fleet-spec.js';

/** Scale-in only when one worker fewer would run at or under this share of the target. */
export const SCALE_IN_MARGIN = 0.9;

export interface GroupView {
  /** The group's current desired capacity (workers starting and warming included). */
  desired: number;
  /** Workers whose CPU counts: in service, warmed up, with a full evaluation window. */
  contributing: number;
  /** Workers launched that do not count yet (starting, warming, or window not yet full). */
  warming: number;
  /** Average CPU (percent of one core) of the contributing workers over the evaluation window. */
  metric: number | undefined;
  /** Requests the group's backend received per minute over the evaluation window (undefined: not known yet). */
  requestsPerMinute?: number | undefined;
  /** When the previous scaling activity of this group happened (ms since epoch). */
  lastScalingAt: number | undefined;
  now: number;
}

export type ScalingDecision =
  | { action: 'none'; reason: string }
  | { action: 'out' | 'in'; to: number; cause: string };

export function decideScaling(policy: ScalingPolicy, g: GroupView): ScalingDecision {
  if (g.metric === undefined || g.contributing === 0) return { action: 'none', reason: 'no metric yet (no warmed worker with a full evaluation window)' };
  const metric = Math.round(g.metric * 10) / 10;
  const perTarget = policy.requestsPerTarget;
  const rpm = perTarget === undefined ? undefined : g.requestsPerMinute;
  const byCpu = Math.ceil((g.contributing * g.metric) / policy.cpuTarget - 1e-9);
  // ALBRequestCountPerTarget: the group's requests shared over its targets, so it wants total / target.
  const byRequests = rpm === undefined || perTarget === undefined ? 0 : Math.ceil(rpm / perTarget - 1e-9);
  const wanted = Math.max(byCpu, byRequests);
  const clamped = Math.min(policy.max, Math.max(policy.min, wanted));
  const cpu = `average CPU ${metric}% of ${g.contributing} worker(s) over ${policy.evaluationSeconds} s against target ${policy.cpuTarget}%`;
  const requests = rpm === undefined ? '' : `${Math.round(rpm)} requests/min against ${perTarget} per worker`;
  const over = requests ? (byRequests > byCpu ? `${requests} (${cpu})` : `${cpu} (${requests})`) : cpu;

  if (clamped > g.desired) {
    return { action: 'out', to: clamped, cause: `target tracking: ${over} asks for ${wanted}; changing the desired capacity from ${g.desired} to ${clamped}` };
  }
  if (wanted >= g.desired || g.desired <= policy.min) return { action: 'none', reason: `${over}: capacity ${g.desired} fits` };
  const fewer = Math.max(
    Math.ceil((g.contributing * g.metric) / (policy.cpuTarget * SCALE_IN_MARGIN) - 1e-9),
    rpm === undefined || perTarget === undefined ? 0 : Math.ceil(rpm / (perTarget * SCALE_IN_MARGIN) - 1e-9),
  );
  if (fewer >= g.desired) return { action: 'none', reason: `${over}: one worker fewer would run above ${SCALE_IN_MARGIN * 100}% of the target` };
  if (g.warming > 0) return { action: 'none', reason: `scale-in held: ${g.warming} worker(s) still warming up` };
  if (g.lastScalingAt !== undefined && g.now - g.lastScalingAt < policy.cooldownSeconds * 1000) {
    return { action: 'none', reason: 'scale-in held: within the cool-down of the previous scaling activity' };
  }
  const to = g.desired - 1;
  return { action: 'in', to, cause: `target tracking: ${over} is below target; changing the desired capacity from ${g.desired} to ${to}` };
}
