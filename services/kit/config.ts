// Configuration from environment variables only. Each reader validates one variable and throws a
// ConfigError naming it and what is expected; runServiceMain turns that into one line and exit 1.

export type Env = Readonly<Record<string, string | undefined>>;

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    readonly expected: string,
    readonly got: string | undefined,
  ) {
    super(
      got === undefined
        ? `${variable} is not set: expected ${expected}`
        : `${variable} is malformed: expected ${expected}, got ${JSON.stringify(truncate(got))}`,
    );
    this.name = 'ConfigError';
  }
}

function truncate(value: string): string {
  return value.length > 40 ? `${value.slice(0, 40)}…` : value;
}

function raw(env: Env, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

export function str(env: Env, name: string, opts: { default?: string; pattern?: RegExp; expected?: string } = {}): string {
  const value = raw(env, name) ?? opts.default;
  const expected = opts.expected ?? (opts.pattern ? `a value matching ${String(opts.pattern)}` : 'a non-empty string');
  if (value === undefined) throw new ConfigError(name, expected, undefined);
  if (opts.pattern && !opts.pattern.test(value)) throw new ConfigError(name, expected, value);
  return value;
}

export function optionalStr(env: Env, name: string): string | undefined {
  return raw(env, name);
}

export function int(env: Env, name: string, opts: { default?: number; min?: number; max?: number } = {}): number {
  const min = opts.min ?? Number.MIN_SAFE_INTEGER;
  const max = opts.max ?? Number.MAX_SAFE_INTEGER;
  const expected = `an integer from ${min} to ${max}`;
  const value = raw(env, name);
  if (value === undefined) {
    if (opts.default === undefined) throw new ConfigError(name, expected, undefined);
    return opts.default;
  }
  if (!/^-?\d+$/.test(value)) throw new ConfigError(name, expected, value);
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new ConfigError(name, expected, value);
  return n;
}

export function bool(env: Env, name: string, fallback: boolean): boolean {
  const value = raw(env, name);
  if (value === undefined) return fallback;
  if (/^(1|true|yes|on)$/i.test(value)) return true;
  if (/^(0|false|no|off)$/i.test(value)) return false;
  throw new ConfigError(name, 'true or false', value);
}

export function oneOf<T extends string>(env: Env, name: string, choices: readonly T[], fallback: T): T {
  const value = raw(env, name);
  if (value === undefined) return fallback;
  if ((choices as readonly string[]).includes(value)) return value as T;
  throw new ConfigError(name, `one of ${choices.join(', ')}`, value);
}

export function list(env: Env, name: string): string[] {
  const value = raw(env, name);
  return value === undefined ? [] : value.split(',').map((s) => s.trim()).filter(Boolean);
}

/** A secret reference: `aws:<secret-id>` or `file:<path>#<key>`; the value itself never sits in the environment. */
export function secretRef(env: Env, name: string): string {
  return str(env, name, {
    pattern: /^(aws:.+|file:[^#]+#.+)$/,
    expected: 'a secret reference aws:<secret-id> or file:<path>#<key>',
  });
}
