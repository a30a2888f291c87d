// HAProxy's runtime API on its admin socket: one connection per call, commands separated by `;`,
// the answer read until HAProxy closes the connection.
import { connect } from 'node:net';

export async function runtimeCommand(socketPath: string, command: string, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = connect(socketPath);
    let text = '';
    const timer = setTimeout(() => c.destroy(new Error(`the gateway's runtime API did not answer "${command.slice(0, 60)}" within ${timeoutMs} ms`)), timeoutMs);
    c.setEncoding('utf8');
    c.on('data', (d: string) => (text += d));
    c.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    c.once('close', () => {
      clearTimeout(timer);
      resolve(text);
    });
    c.end(`${command}\n`);
  });
}

/** `show stat` CSV -> one record per line (field name -> value), header names without HAProxy's "# ". */
function statRows(csv: string): Array<Record<string, string | undefined>> {
  const lines = csv.split('\n');
  const header = (lines[0] ?? '').replace(/^# /, '').split(',');
  return lines
    .slice(1)
    .map((line) => line.split(','))
    .filter((f) => f.length >= header.length - 1)
    .map((f) => Object.fromEntries(header.map((name, i) => [name, f[i]])));
}

const isServer = (r: Record<string, string | undefined>): boolean => r.svname !== 'FRONTEND' && r.svname !== 'BACKEND';

/** Current sessions per server of every backend (`show stat`, CSV): "backend/server" -> scur. */
export function currentSessions(csv: string): Map<string, number> {
  return new Map(statRows(csv).filter(isServer).map((r) => [`${r.pxname}/${r.svname}`, Number(r.scur ?? 0)]));
}

/** `show stat` CSV -> every backend's cumulative HTTP requests (`req_tot` of its BACKEND line), by backend name. */
export function backendRequests(csv: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const r of statRows(csv)) {
    if (r.svname !== 'BACKEND' || r.pxname === undefined || !r.req_tot) continue;
    const n = Number(r.req_tot);
    if (Number.isFinite(n)) out.set(r.pxname, n);
  }
  return out;
}

/** `show stat` CSV -> the servers HAProxy routes to now (not MAINT, DRAIN or DOWN), by `backend/server`. */
export function serversUp(csv: string): Set<string> {
  // Servers here have no HAProxy check (the supervisor checks them): ready reads `no check`.
  const up = (st: string) => st === 'no check' || st.startsWith('UP');
  return new Set(statRows(csv).filter((r) => isServer(r) && up(r.status ?? '')).map((r) => `${r.pxname}/${r.svname}`));
}

/** `show info` -> the worker process's pid. */
export function infoPid(info: string): number | undefined {
  const m = /^Pid: (\d+)$/m.exec(info);
  return m ? Number(m[1]) : undefined;
}

/** `show servers state <backend>` -> server name -> port, for the slots that hold a worker (port > 1). */
export function usedSlots(state: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of state.split('\n')) {
    if (!line || line.startsWith('#') || /^\d+$/.test(line.trim())) continue;
    const f = line.split(' ');
    // be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight
    // srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state
    // srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port ...
    const name = f[3];
    const port = Number(f[18]);
    if (name && port > 1) out.set(name, port);
  }
  return out;
}
