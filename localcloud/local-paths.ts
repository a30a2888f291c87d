// Where the local target keeps its files, all under one folder (.saleday/local by default).
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const DEFAULT_LOCAL_DIR = '.saleday/local';

export function localDir(dir = DEFAULT_LOCAL_DIR): string {
  return resolve(dir);
}

/** The supervisor's record of itself: {pid, socket, startedAt}. */
export function supervisorFile(dir: string): string {
  return join(dir, 'supervisor.json');
}

export function supervisorLog(dir: string): string {
  return join(dir, 'supervisor.log');
}

/**
 * The control socket: in the folder itself, unless that path is too long for a unix socket
 * (about 104 bytes on macOS, 108 on Linux); then in the temp folder, named after the folder.
 */
export function controlSocket(dir: string): string {
  const inside = join(dir, 'control.sock');
  if (Buffer.byteLength(inside) <= 100) return inside;
  const id = createHash('sha256').update(dir).digest('hex').slice(0, 16);
  return join(tmpdir(), `saleday-${id}.sock`);
}

/**
 * A unix socket for `name` under `dir`, or in the temp folder (named after `dir`) when that path
 * is too long for a socket.
 */
export function socketIn(dir: string, name: string): string {
  const inside = join(dir, name);
  if (Buffer.byteLength(inside) <= 100) return inside;
  const id = createHash('sha256').update(dir).digest('hex').slice(0, 16);
  return join(tmpdir(), `saleday-${id}-${name}`);
}

/** The gateway's files: HAProxy's configuration, error pages, pid, server states, log. */
export function gatewayDir(dir: string): string {
  return join(dir, 'gateway');
}

/** The keeper's record of itself: {pid, startTime}. */
export function keeperFile(dir: string): string {
  return join(dir, 'keeper.json');
}
