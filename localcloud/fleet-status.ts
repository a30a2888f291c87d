// What status.mjs prints for the local target: the gateway, each group's sizes and workers,
// and the latest scaling activities (like `aws autoscaling describe-scaling-activities`).
import type { LocalActivity, LocalState } from '../environment/index.js';

export function formatFleetStatus(state: LocalState | undefined, activity: readonly LocalActivity[]): string {
  if (!state) return 'the local shop is not running (deploy it with ./playbooks/deploy.mjs)';
  const lines = [`gateway  ${state.gatewayUrl}   (state of ${state.updatedAt})`, ''];
  const rows = [['service', 'min', 'desired', 'max', 'size', 'cpu target', 'artifact', 'workers']];
  for (const [name, s] of Object.entries(state.services)) {
    const workers = s.workers.map((w) => `${w.pid}:${w.port}${w.state === 'in-service' ? '' : ` (${w.state})`}`).join(' ');
    rows.push([name, String(s.min), String(s.desired), String(s.max), String(s.size), `${s.cpuTarget}%`, s.artifact.replace(/^sha256:/, '').slice(0, 12), workers || '-']);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows) lines.push(r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  '));
  lines.push('', 'recent scaling activity');
  if (activity.length === 0) lines.push('  none');
  for (const a of activity) lines.push(`  ${a.time.replace('T', ' ').replace(/\.\d+Z$/, 'Z')}  ${a.service.padEnd(10)} ${String(a.from).padStart(2)} -> ${String(a.to).padEnd(2)}  ${a.cause}`);
  return lines.join('\n');
}
