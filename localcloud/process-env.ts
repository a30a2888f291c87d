// The environment of every process the local shop starts (the supervisor, its workers, the private
// database server): only what a process needs to run, never the deploying shell's whole
// environment, which may hold MYSQL_URL with a password, AWS keys or tokens. A worker's
// configuration comes from its service's spec on top of this.
const PASSED_THROUGH = ['PATH', 'HOME', 'TMPDIR', 'TZ', 'LANG', 'SYSTEMROOT'] as const;

/** PATH, HOME, TMPDIR, TZ, LANG (and SYSTEMROOT) from `from`, then `extra`. */
export function minimalEnv(extra: Readonly<Record<string, string>> = {}, from: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const env: Record<string, string> = {};
  for (const k of PASSED_THROUGH) {
    const v = from[k];
    if (v !== undefined) env[k] = v;
  }
  return Object.assign(env, extra);
}
