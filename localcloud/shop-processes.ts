// Which processes belong to a local shop, whatever happened to the supervisor: every process the
// shop starts (keeper, supervisor, gateway, static origin, workers) carries its folder and its
// role in its environment (`/proc/<pid>/environ`), and a pid is only ever signalled after its
// start time or marker was checked, so a recycled pid is never taken for one of ours.
import { readFileSync, readdirSync } from 'node:fs';

/** The local folder of the shop a process belongs to. */
export const SHOP_DIR_VAR = 'SALEDAY_LOCAL_SHOP';
/** What the process is: keeper, supervisor, gateway, static, worker (the fleet), database, cache. */
export const SHOP_ROLE_VAR = 'SALEDAY_LOCAL_ROLE';

export type ShopRole = 'keeper' | 'supervisor' | 'gateway' | 'static' | 'worker' | 'database' | 'cache';
export const FLEET_ROLES: readonly ShopRole[] = ['keeper', 'supervisor', 'gateway', 'static', 'worker'];

/** The marker a process of the shop in `dir` is started with. */
export function shopMarker(dir: string, role: ShopRole): Record<string, string> {
  return { [SHOP_DIR_VAR]: dir, [SHOP_ROLE_VAR]: role };
}

export interface ShopProcess {
  pid: number;
  role: ShopRole;
  startTime: string;
}

/** Every live process marked with `dir` (and one of `roles`), read from /proc. */
export function shopProcesses(dir: string, roles: readonly ShopRole[] = FLEET_ROLES): ShopProcess[] {
  if (process.platform !== 'linux') return [];
  const found: ShopProcess[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    if (pid === process.pid) continue;
    const env = environOf(pid);
    if (!env || env[SHOP_DIR_VAR] !== dir) continue;
    const role = env[SHOP_ROLE_VAR] as ShopRole | undefined;
    if (!role || !roles.includes(role)) continue;
    const startTime = startTimeOf(pid);
    if (startTime) found.push({ pid, role, startTime });
  }
  return found;
}

function environOf(pid: number): Record<string, string> | undefined {
  try {
    const env: Record<string, string> = {};
    for (const entry of readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0')) {
      const i = entry.indexOf('=');
      if (i > 0) env[entry.slice(0, i)] = entry.slice(i + 1);
    }
    return env;
  } catch {
    return undefined;
  }
}

/** The process's start time (clock ticks since boot, /proc/<pid>/stat field 22); '' when gone. */
export function startTimeOf(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] === 'Z') return '';
    return fields[19] ?? '';
  } catch {
    return '';
  }
}

/** True while the very process recorded as (pid, startTime) runs (not a zombie, not a recycled pid). */
export function isSameProcess(pid: number, startTime: string): boolean {
  return pid > 1 && startTime !== '' && startTimeOf(pid) === startTime;
}

export function signalProcess(p: Pick<ShopProcess, 'pid' | 'startTime'>, sig: NodeJS.Signals): void {
  if (!isSameProcess(p.pid, p.startTime)) return;
  try {
    process.kill(p.pid, sig);
  } catch {
    // already gone
  }
}

/** Signals each process (checked first), waits until all are gone; SIGKILL for whoever stays past `timeoutMs`. */
export async function endProcesses(procs: ReadonlyArray<Pick<ShopProcess, 'pid' | 'startTime'>>, timeoutMs: number, sig: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  for (const p of procs) signalProcess(p, sig);
  const alive = () => procs.filter((p) => isSameProcess(p.pid, p.startTime));
  const deadline = Date.now() + timeoutMs;
  while (alive().length && Date.now() < deadline) await pause(50);
  for (const p of alive()) signalProcess(p, 'SIGKILL');
  const hard = Date.now() + 5000;
  while (alive().length && Date.now() < hard) await pause(50);
}

export function pause(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
