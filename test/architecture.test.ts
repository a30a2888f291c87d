// The direction of imports between the parts (README.md, "The parts"): every .ts import
// in environment/, services/, cloudformation/, localcloud/, playbooks/, loadtest/ and bench/ is read
// and checked against the rules below, and no `as unknown as` glues the renderers to the playbooks.
//
//   playbooks/ ──> cloudformation/ (its index.ts only), localcloud/, environment/, services/,
//                  loadtest/'s profile API (load.ts, peak.ts: the preflight's --profile) and the
//                  loadgen contract (generators/placement.ts: what prepareLoadgen returns)
//   cloudformation/ ──> environment/, services/ (declarations and kit/declaration.ts only)
//   localcloud/ ──> environment/            loadtest/ ──> environment/
//   environment/ ──> services/*/declaration.ts, services/kit/declaration.ts
//   services/ ──> nothing above it          bench/ ──> anything
// Outside environment/ itself, the environment model is imported through environment/index.ts.
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';

const repo = fileURLToPath(new URL('..', import.meta.url));
const PARTS = ['environment', 'services', 'cloudformation', 'localcloud', 'playbooks', 'loadtest', 'bench'] as const;
type Part = (typeof PARTS)[number];

/**
 * Imports that break a rule today and are on someone's list, with the owner who removes them
 * (none on this branch). An entry that no longer matches an import fails the test too.
 */
const KNOWN_EXCEPTIONS: ReadonlyArray<{ file: string; target: string; owner: string }> = [];

const LOADTEST_PROFILE_API = ['loadtest/lib/profile/load.ts', 'loadtest/lib/profile/peak.ts'];
/** The contract prepareLoadgen (playbooks) fulfils for the AWS launcher (loadtest): types only. */
const LOADTEST_LOADGEN_CONTRACT = 'loadtest/lib/generators/placement.ts';

const DECLARATION = /^services\/([a-z-]+\/declaration|kit\/declaration)\.ts$/;

/** Why an import from part `from` of `target` is not allowed, or undefined when it is. */
function violation(from: Part, target: string): string | undefined {
  const to = target.split('/')[0];
  if (to === from) return undefined;
  const onlyIndex = (part: string) => (target === `${part}/index.ts` ? undefined : `${part}/ is imported through ${part}/index.ts`);
  switch (from) {
    case 'services':
      return `services/ imports nothing above it`;
    case 'environment':
      return DECLARATION.test(target) ? undefined : 'environment/ imports only service declarations (services/<name>/declaration.ts, services/kit/declaration.ts)';
    case 'cloudformation':
      if (to === 'environment') return onlyIndex('environment');
      if (to === 'services') return DECLARATION.test(target) ? undefined : 'cloudformation/ reads services only through their declarations';
      return `cloudformation/ never imports ${to}/`;
    case 'localcloud':
      return to === 'environment' ? onlyIndex('environment') : `localcloud/ imports only environment/, not ${to}/`;
    case 'loadtest':
      return to === 'environment' ? onlyIndex('environment') : `loadtest/ imports only environment/, not ${to}/`;
    case 'playbooks':
      if (to === 'cloudformation' || to === 'environment') return onlyIndex(to);
      if (to === 'localcloud' || to === 'services') return undefined;
      // The preflight compares a fleet with a load profile's peak: it reads the profile through the
      // loadtest's public profile API and nothing else of the loadtest.
      if (LOADTEST_PROFILE_API.includes(target) || target === LOADTEST_LOADGEN_CONTRACT) return undefined;
      return `playbooks/ never imports ${to}/${to === 'loadtest' ? ` (only ${[...LOADTEST_PROFILE_API, LOADTEST_LOADGEN_CONTRACT].join(', ')})` : ''}`;
    case 'bench':
      return undefined;
  }
}

async function tsFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(join(repo, dir), { withFileTypes: true, recursive: true })) {
    if (e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) out.push(relative(repo, join(e.parentPath, e.name)));
  }
  return out.sort();
}

/** Relative specifiers of static imports, re-exports and dynamic imports. */
function importsOf(text: string): string[] {
  const found: string[] = [];
  for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'";]*?from\s*'([^']+)'|(?:^|\n)\s*import\s*'([^']+)'|\bimport\(\s*'([^']+)'\s*\)/g)) {
    const spec = m[1] ?? m[2] ?? m[3]!;
    if (spec.startsWith('.')) found.push(spec);
  }
  return found;
}

const files = (await Promise.all(PARTS.map((p) => tsFiles(p)))).flat();
const edges = await Promise.all(
  files.map(async (file) => {
    const text = await readFile(join(repo, file), 'utf8');
    const targets = importsOf(text).map((spec) => normalize(join(dirname(file), spec)).replace(/\.js$/, '.ts'));
    return { file, text, targets };
  }),
);

t.test('every import goes the allowed way between parts', (t) => {
  const broken: string[] = [];
  const excused = new Set<(typeof KNOWN_EXCEPTIONS)[number]>();
  for (const { file, targets } of edges) {
    const from = file.split('/')[0] as Part;
    for (const target of targets) {
      const why = violation(from, target);
      if (!why) continue;
      const exception = KNOWN_EXCEPTIONS.find((e) => e.file === file && e.target === target);
      if (exception) excused.add(exception);
      else broken.push(`${file} imports ${target}: ${why}`);
    }
  }
  t.same(broken, [], 'no import against the direction');
  t.same(KNOWN_EXCEPTIONS.filter((e) => !excused.has(e)), [], 'every listed exception still exists (remove the ones that were fixed)');
  t.ok(edges.reduce((n, e) => n + e.targets.length, 0) > 300, 'the imports were found');
  t.end();
});

t.test('no import cycle between the parts', (t) => {
  const graph = new Map<string, Set<string>>();
  for (const { file, targets } of edges) {
    const from = file.split('/')[0]!;
    for (const target of targets) {
      const to = target.split('/')[0]!;
      if (to !== from) graph.set(from, (graph.get(from) ?? new Set()).add(to));
    }
  }
  const reaches = (a: string, b: string, seen = new Set<string>()): boolean =>
    [...(graph.get(a) ?? [])].some((n) => n === b || (!seen.has(n) && (seen.add(n), reaches(n, b, seen))));
  const cycles = PARTS.filter((p) => reaches(p, p));
  t.same(cycles, [], 'no part reaches itself through another');
  t.end();
});

t.test('no `as unknown as` between the renderers and the playbooks', (t) => {
  const casts = edges.filter(({ file, text }) => (file.startsWith('cloudformation/') || file.startsWith('playbooks/lib/')) && text.includes('as unknown as')).map((e) => e.file);
  t.same(casts, []);
  t.end();
});
