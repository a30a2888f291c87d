// Writes and reads the local shop's state files in the local folder: state.json (replaced
// atomically, temp file + rename, so a reader never sees half of it) and activity.jsonl (one line
// appended per scaling activity). Their shape is the contract with status.mjs and the load
// harness, declared once in environment/local-state.ts.
import { appendFile, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LOCAL_ACTIVITY_FILE, LOCAL_STATE_FILE, type LocalActivity, type LocalState } from '../environment/index.js';

let tmpCounter = 0;

export async function writeState(dir: string, state: LocalState): Promise<void> {
  await mkdir(dir, { recursive: true });
  const tmp = join(dir, `.${LOCAL_STATE_FILE}.${process.pid}.${tmpCounter++}.tmp`);
  await writeFile(tmp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o644 });
  await rename(tmp, join(dir, LOCAL_STATE_FILE));
}

export async function readState(dir: string): Promise<LocalState | undefined> {
  try {
    return JSON.parse(await readFile(join(dir, LOCAL_STATE_FILE), 'utf8')) as LocalState;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

export async function appendActivity(dir: string, activity: LocalActivity): Promise<void> {
  await mkdir(dir, { recursive: true });
  // One write per line, appended: lines from one writer never interleave.
  await appendFile(join(dir, LOCAL_ACTIVITY_FILE), `${JSON.stringify(activity)}\n`);
}

/** The most recent activities, oldest first (`limit` of them; all when omitted). */
export async function readActivity(dir: string, limit?: number): Promise<LocalActivity[]> {
  let text: string;
  try {
    text = await readFile(join(dir, LOCAL_ACTIVITY_FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  const picked = limit === undefined ? lines : lines.slice(-limit);
  return picked.flatMap((l) => {
    try {
      return [JSON.parse(l) as LocalActivity];
    } catch {
      return [];
    }
  });
}
