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

/** Current sessions per server of every backend (`show stat`, CSV): "backend/server" -> scur. */
export function currentSessions(csv: string): Map<string, number> {
  const out = new Map<string, number>();
  const lines = csv.split('\n');
  const header = (lines[0] ?? '').replace(/^# /, '').split(',');
  const px = header.indexOf('pxname');
  const sv = header.indexOf('svname');
  const scur = header.indexOf('scur');
  for (const line of lines.slice(1)) {
    const f = line.split(',');
    if (f.length < header.length - 1 || f[sv] === 'FRONTEND' || f[sv] === 'BACKEND') continue;
    out.set(`${f[px]}/${f[sv]}`, Number(f[scur] ?? 0));
  }
  return out;
}

/** `show stat` CSV -> every backend's cumulative HTTP requests (`req_tot` of its BACKEND line), by backend name. */
export function backendRequests(csv: string): Map<string, number> {
  const out = new Map<string, number>();
  const lines = csv.split('\n');
  const header = (lines[0] ?? '').replace(/^# /, '').split(',');
  const px = header.indexOf('pxname');
  const sv = header.indexOf('svname');
  const total = header.indexOf('req_tot');
  if (total < 0) return out;
  for (const line of lines.slice(1)) {
    const f = line.split(',');
    if (f[sv] !== 'BACKEND' || f[px] === undefined) continue;
    const n = Number(f[total]);
    if (Number.isFinite(n) && f[total] !== '') out.set(f[px], n);
  }
  return out;
}

/** `show stat` CSV -> the servers HAProxy routes to now (not MAINT, DRAIN or DOWN), by `backend/server`. */
export function serversUp(csv: string): Set<string> {
  const out = new Set<string>();
  const lines = csv.split('\n');
  const header = (lines[0] ?? '').replace(/^# /, '').split(',');
  const px = header.indexOf('pxname');
  const sv = header.indexOf('svname');
  const status = header.indexOf('status');
  for (const line of lines.slice(1)) {
    const f = line.split(',');
    if (f.length < header.length - 1 || f[sv] === 'FRONTEND' || f[sv] === 'BACKEND') continue;
    // Servers here have no HAProxy check (the supervisor checks them): ready reads `no check`.
    const st = f[status] ?? '';
    if (st === 'no check' || st.startsWith('UP')) out.add(`${f[px]}/${f[sv]}`);
  }
  return out;
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
