// The local target's state as the contract fixes it (.saleday/local/state.json, read by
// status.mjs and the load harness) and its scaling activity history (activity.jsonl). The state
// file is replaced atomically (temp file + rename) so a reader never sees half of it.
import { appendFile, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { WorkerState } from './worker-process.js';

export interface ServiceState {
  min: number;
  max: number;
  desired: number;
  size: number;
  workers: Array<{ pid: number; port: number; state: WorkerState }>;
  cpuTarget: number;
  artifact: string;
}

export interface LocalState {
  environment: 'local';
  gatewayUrl: string;
  updatedAt: string;
  services: Record<string, ServiceState>;
}

export interface Activity {
  time: string;
  service: string;
  from: number;
  to: number;
  cause: string;
}

export const STATE_FILE = 'state.json';
export const ACTIVITY_FILE = 'activity.jsonl';

let tmpCounter = 0;

export async function writeState(dir: string, state: LocalState): Promise<void> {
  await mkdir(dir, { recursive: true });
  const tmp = join(dir, `.${STATE_FILE}.${process.pid}.${tmpCounter++}.tmp`);
  await writeFile(tmp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o644 });
  await rename(tmp, join(dir, STATE_FILE));
}

export async function readState(dir: string): Promise<LocalState | undefined> {
  try {
    return JSON.parse(await readFile(join(dir, STATE_FILE), 'utf8')) as LocalState;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

export async function appendActivity(dir: string, activity: Activity): Promise<void> {
  await mkdir(dir, { recursive: true });
  // One write per line, appended: lines from one writer never interleave.
  await appendFile(join(dir, ACTIVITY_FILE), `${JSON.stringify(activity)}\n`);
}

/** The most recent activities, oldest first (`limit` of them; all when omitted). */
export async function readActivity(dir: string, limit?: number): Promise<Activity[]> {
  let text: string;
  try {
    text = await readFile(join(dir, ACTIVITY_FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const picked = limit === undefined ? lines : lines.slice(-limit);
  return picked.flatMap((l) => {
    try {
      return [JSON.parse(l) as Activity];
    } catch {
      return [];
    }
  });
}
