// Loading a profile: read the YAML, check its shape (the profile's, then each feeder's and
// threshold's against the schema of its kind), then compile it, checking what only the whole
// profile can tell (names of journeys, endpoints, phases and variables). Every problem is
// reported at once with the file, line, path inside the file and the fix, and nothing runs.
import { readFileSync } from 'node:fs';
import { Value } from '@sinclair/typebox/value';
import type { Static } from '@sinclair/typebox';
import { didYouMean, readYaml, type Wording, type YamlProblem, type YamlProblems } from '../../../environment/index.js';
import { feederKind, feederKindOf, type FeederSpec } from '../feeders/index.js';
import { compileCapacity } from '../capacity.js';
import { compileSessions, SESSION_VAR } from '../sessions.js';
import { compileStep } from '../steps/request.js';
import { compileOversell } from '../thresholds/oversell.js';
import { kindOfMetric, type Threshold } from '../thresholds/registry.js';
import { formatMs } from '../units.js';
import { ProfileCompiler } from './compiler.js';
import { ProfileSchema } from './schema.js';
import { BUILTINS, type Journey, type Phase, type Profile, type SetupTask } from './types.js';

// --- errors --------------------------------------------------------------------------------------

export interface Problem {
  path: string;
  line: number | undefined;
  col: number | undefined;
  problem: string;
  fix: string;
}

export class ProfileError extends Error {
  constructor(
    readonly file: string,
    readonly problems: Problem[],
  ) {
    super(
      `${file}: ${problems.length} problem${problems.length === 1 ? '' : 's'} in the profile\n` +
        problems
          .map((p) => `  ${file}${p.line ? `:${p.line}:${p.col}` : ''}: ${p.path || '(top level)'}: ${p.problem}\n      fix: ${p.fix}`)
          .join('\n'),
    );
    this.name = 'ProfileError';
  }
}

/** How the profile loader words what the YAML reporter finds. */
const wording: Wording = {
  syntax: (message) => ({ problem: `YAML syntax: ${message}`, expected: 'correct the YAML at that line (indentation, quotes, a missing colon)' }),
  notAMapping: () => ({ problem: 'is not a YAML mapping', expected: 'start from loadtest/profiles/smoke.yaml: a mapping with name, maxInFlight, phases and journeys' }),
  unknownKey: (key, allowed, suggestion) => ({
    problem: `unknown key "${key}"${suggestion === undefined ? '' : ` (did you mean "${suggestion}"?)`}`,
    expected: `remove it; the keys allowed here are ${allowed.join(', ')}`,
  }),
  missing(key, schema) {
    const { description } = schema as { description?: string };
    return { problem: 'is missing', expected: description ? `add ${key}, ${description}` : 'add it' };
  },
  invalid(key, value, schema, message) {
    const { description } = schema as { description?: string };
    const got = JSON.stringify(value);
    const fix = description ? (/^\d+$/.test(key) ? description : `${key}: ${description}`) : 'see "Profiles" in loadtest/README.md';
    return { problem: `${message.charAt(0).toLowerCase()}${message.slice(1).replace('union value', 'a different value')}, got ${got?.length > 60 ? `${got.slice(0, 60)}…` : got}`, expected: fix };
  },
};

const failure = (file: string, problems: readonly YamlProblem[]): ProfileError =>
  new ProfileError(file, problems.map((p) => ({ path: p.path, line: p.line, col: p.col, problem: p.problem, fix: p.expected })));

// --- loading ---------------------------------------------------------------------------------------

/** Reads, validates and compiles a profile; throws ProfileError naming every problem. */
export function loadProfile(file: string): Profile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new ProfileError(file, [{ path: '', line: undefined, col: undefined, problem: code === 'ENOENT' ? 'no such file' : `cannot be read (${code ?? (err as Error).message})`, fix: 'give the path of a profile, e.g. --profile loadtest/profiles/smoke.yaml' }]);
  }
  return parseProfile(text, file);
}

export function parseProfile(text: string, file: string): Profile {
  const { value: r, problems } = readYaml(text, wording);
  if (!r) throw failure(file, problems.list);
  problems.checkSchema(ProfileSchema, r);
  // Feeders and thresholds are checked against the schema of their kind, once their kind is known.
  const feedersRaw = isRecord(r.feeders) ? r.feeders : {};
  for (const [name, f] of Object.entries(feedersRaw)) {
    const kind = isRecord(f) ? feederKindOf(f.type) : undefined;
    if (kind) problems.checkSchema(kind.schema, f, ['feeders', name]);
  }
  const thresholdsRaw = Array.isArray(r.thresholds) ? r.thresholds : [];
  thresholdsRaw.forEach((t, i) => {
    const kind = isRecord(t) ? kindOfMetric(String(t.metric)) : undefined;
    if (kind) problems.checkSchema(kind.schema, t, ['thresholds', i]);
  });
  if (problems.length || !Value.Check(ProfileSchema, r)) throw failure(file, problems.list);
  const profile = compile(r, file, problems);
  if (problems.length) throw failure(file, problems.list);
  return profile;
}

const isRecord = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

function compile(r: Static<typeof ProfileSchema>, file: string, problems: YamlProblems): Profile {
  const compiler = new ProfileCompiler(problems);
  const requestTimeout = (value: unknown): number => {
    const ms = compiler.duration(value, ['timeout'], 'the request timeout', true);
    if (ms > 0 && ms < 1000) compiler.add(['timeout'], `is ${formatMs(ms)}, shorter than autocannon's shortest timeout`, 'make it 1s or more');
    return ms;
  };

  // phases
  let at = 0;
  const phases: Phase[] = r.phases.map((p, i) => {
    const durationMs = compiler.duration(p.duration, ['phases', i, 'duration'], 'the phase duration', true);
    const phase = { name: p.name, startMs: at, durationMs, rate: p.rate, rampTo: p.rampTo ?? p.rate };
    at += durationMs;
    return phase;
  });
  compiler.unique(phases.map((p) => p.name), (i) => ['phases', i, 'name'], 'phase');
  const phaseNames = phases.map((p) => p.name);

  // feeders
  const feeders: Record<string, FeederSpec> = {};
  for (const [name, f] of Object.entries(r.feeders ?? {})) {
    if (!/^[A-Za-z_][\w-]*$/.test(name)) compiler.add(['feeders', name], `"${name}" cannot be used as a variable name`, 'name feeders with letters, digits, _ and -, starting with a letter (e.g. user, product)', true);
    if (BUILTINS.includes(name) || name === SESSION_VAR) compiler.add(['feeders', name], `"${name}" is a built-in variable`, `rename the feeder; ${[...BUILTINS, SESSION_VAR].join(', ')} are built in`, true);
    feeders[name] = feederKind(f.type).compile(f, { at: ['feeders', name], compiler });
  }
  const feederNames = Object.keys(feeders);

  // journeys
  compiler.unique(r.journeys.map((j) => j.name), (i) => ['journeys', i, 'name'], 'journey');
  const journeys: Journey[] = r.journeys.map((j, ji) => {
    const known = new Set<string>([...BUILTINS, ...feederNames, ...(r.sessions ? [SESSION_VAR] : [])]);
    const steps = j.steps.map((s, si) => compileStep(s, { at: ['journeys', ji, 'steps', si], journey: j.name, index: si, compiler, known, feeders }));
    compiler.unique(steps.map((s) => s.name), (i) => ['journeys', ji, 'steps', i, 'name'], `step of journey ${j.name}`);
    return { name: j.name, weight: j.weight, steps };
  });
  const journeyNames = journeys.map((j) => j.name);
  const weights = journeys.reduce((a, j) => a + j.weight, 0);
  if (Math.abs(weights - 100) > 1e-9) {
    compiler.add(['journeys'], `the weights add up to ${weights}, not 100 (${journeys.map((j) => `${j.name} ${j.weight}`).join(', ')})`, 'change the weights so that they add up to 100 (a journey used only by setup has weight 0)');
  }
  const sessions = r.sessions ? compileSessions(r.sessions, { feeders, journeys, phases }, compiler) : undefined;
  const endpoints = endpointsOf({ journeys, sessions });

  // setup
  const setup: SetupTask[] = (r.setup ?? []).map((s, i) => {
    if (!journeyNames.includes(s.journey)) compiler.add(['setup', i, 'journey'], `names the unknown journey "${s.journey}"${didYouMean(s.journey, journeyNames)}`, `use one of the journeys: ${journeyNames.join(', ')}`);
    else if (journeys.find((j) => j.name === s.journey)!.steps.some((st) => st.usesSession)) compiler.add(['setup', i, 'journey'], `"${s.journey}" sends {{session.token}}, but setup runs before any account has signed in`, 'capture the token in an earlier step of the setup journey instead');
    const f = feeders[s.each];
    if (!f || f.type !== 'users') {
      const users = feederNames.filter((n) => feeders[n]!.type === 'users');
      compiler.add(['setup', i, 'each'], `"${s.each}" is not a users feeder`, users.length ? `use one of ${users.join(', ')}` : 'define a users feeder under feeders: (type: users, count: N)');
    }
    return { journey: s.journey, each: s.each, rate: s.rate ?? 50 };
  });

  // thresholds, each compiled by its kind
  const thresholds: Threshold[] = (r.thresholds ?? []).map((t, i) => {
    const kind = kindOfMetric(t.metric);
    if (!kind) throw new Error(`unreachable metric ${t.metric}`);
    return kind.compile(t, { at: ['thresholds', i], path: `thresholds[${i}]`, compiler, phases: phaseNames, journeys: journeyNames, endpoints });
  });

  const oversell = compileOversell(r.oversell, { thresholds, journeys, feeders }, compiler);

  return {
    file,
    name: r.name,
    description: r.description ?? '',
    seed: r.seed ?? 1,
    maxInFlight: r.maxInFlight,
    maxQueued: r.maxQueued ?? 10_000,
    timeoutMs: r.timeout === undefined ? 10_000 : requestTimeout(r.timeout),
    drainMs: r.drain === undefined ? 30_000 : compiler.duration(r.drain, ['drain'], 'the drain time'),
    phases,
    durationMs: at,
    feeders,
    setup,
    journeys,
    thresholds,
    oversell,
    sessions,
    capacity: r.capacity ? compileCapacity(r.capacity, compiler) : undefined,
  };
}

/** Every endpoint name the profile's steps file results under. */
export function endpointsOf(profile: Pick<Profile, 'journeys' | 'sessions'>): string[] {
  const refresh = profile.sessions?.refresh ? [profile.sessions.refresh.endpoint] : [];
  return [...new Set([...profile.journeys.flatMap((j) => j.steps.map((s) => s.endpoint)), ...refresh])];
}
