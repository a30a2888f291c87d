// The command line every playbook understands, parsed with node:util's parseArgs. A bad flag is a
// UsageError (exit code 1) whose message says what to type instead.
import { parseArgs } from 'node:util';
import { UsageError } from './errors.js';

export type PlaybookName = 'deploy' | 'drift' | 'status' | 'destroy' | 'render' | 'preflight' | 'rehearse';

/** The inventory a playbook reads without -i: render shows what production would get, the rest act on this machine. */
export const defaultInventory = (playbook: string): string =>
  `playbooks/inventories/${playbook === 'render' ? 'production' : 'local'}.yaml`;

export interface PlaybookOptions {
  /** -i/--inventory; undefined means the playbook's default inventory. */
  inventory: string | undefined;
  check: boolean;
  diff: boolean;
  tags: string[];
  skipTags: string[];
  /** --limit <service>: only that service's tasks change anything. */
  limit: string | undefined;
  verbose: boolean;
  yes: boolean;
  json: string | undefined;
  /** -e key=value, in the order given. */
  extraVars: Record<string, string>;
  allowReplace: string[];
  reviewMd: string | undefined;
  keepChangeSets: boolean;
  executeReviewed: boolean;
  detailedExitcode: boolean;
  help: boolean;
  /** render -o/--out: the folder the environment's folder of templates goes in. */
  out: string | undefined;
  /** render --validate: also check the templates before writing them. */
  validate: boolean;
  /** destroy --allow-destroy <environment>: destroy an environment whose inventory protects its database. */
  allowDestroy: string | undefined;
  /** preflight --profile: a load profile whose peak the fleet is measured against. */
  profile: string | undefined;
  /** preflight --offline: only the checks that need no AWS credentials. */
  offline: boolean;
  /** deploy --skip-preflight: deploy without the preflight (said loudly in the recap). */
  skipPreflight: boolean;
  /** rehearse --generators N: how many load generators (the harness's --generators). */
  generators: string | undefined;
  /** rehearse --keep: leave the environment up after the rehearsal. */
  keep: boolean;
  /** rehearse --results <dir>: where the load's result and report go (the harness's --out). */
  results: string | undefined;
}

export const usage = (playbook: string): string => `usage: ./playbooks/${playbook}.mjs [options]

  -i, --inventory <file>     inventory YAML (default ${defaultInventory(playbook)})${playbook === 'render' ? `
  -o, --out <dir>            write <dir>/<environment>/<stack>.yaml (default build/cloudformation)
      --validate             also check the templates: resource specification, security rules, stack wiring` : ''}${playbook === 'destroy' || playbook === 'rehearse' ? `
      --allow-destroy <env>  destroy this environment although its inventory sets database.deletionProtection` : ''}${playbook === 'rehearse' ? `
      --profile <file>       the load profile of the rehearsal (loadtest/profiles/), required
      --generators <n>       load generators (default: the harness's, one per core when the peak needs more)
      --keep                 leave the environment up afterwards (no teardown)
      --results <dir>        where the load's result.json and report.html go (default build/loadtest)` : ''}${playbook === 'preflight' ? `
      --profile <file>       also compare the fleet's reach with a load profile's peak (loadtest/profiles/)
      --offline              only the checks that need no AWS credentials` : ''}${playbook === 'deploy' ? `
      --skip-preflight       deploy without the preflight checks (the recap says so)` : ''}
      --check                change nothing anywhere; every task says what it would do
      --diff                 show what would change (template differences)
      --tags <a,b>           run only tasks with one of these tags
      --skip-tags <a,b>      skip tasks with one of these tags
      --limit <service>      deploy one service without touching the others
  -v, --verbose              details and stack traces
  -y, --yes                  approve reviews without a prompt
      --json <file>          write a machine-readable record of the run
  -e, --extra-vars <k=v>     override an inventory value (repeatable)
      --allow-replace <Id>   allow replacing or removing this stateful resource (repeatable)
      --review-md <file>     write the change-set review as Markdown
      --keep-change-sets     with --check: keep the reviewed change sets for --execute-reviewed
      --execute-reviewed     execute exactly the change sets kept by --check --keep-change-sets
      --detailed-exitcode    with --check: exit 0 when nothing would change, 3 when something would
  -h, --help                 this text

exit codes: 0 nothing failed, 1 usage error, 2 a task failed${playbook === 'preflight' ? ' (an error-level finding)' : ''}, 3 changes present (--check --detailed-exitcode)`;

const list = (values: string[] | undefined): string[] =>
  (values ?? []).flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);

const OPTIONS = {
  inventory: { type: 'string', short: 'i' },
  check: { type: 'boolean' },
  diff: { type: 'boolean' },
  tags: { type: 'string', multiple: true },
  'skip-tags': { type: 'string', multiple: true },
  limit: { type: 'string' },
  verbose: { type: 'boolean', short: 'v', multiple: true },
  yes: { type: 'boolean', short: 'y' },
  json: { type: 'string' },
  'extra-vars': { type: 'string', short: 'e', multiple: true },
  'allow-replace': { type: 'string', multiple: true },
  'review-md': { type: 'string' },
  'keep-change-sets': { type: 'boolean' },
  'execute-reviewed': { type: 'boolean' },
  'detailed-exitcode': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Flags only one playbook takes. */
const OWN_OPTIONS = {
  render: { out: { type: 'string', short: 'o' }, validate: { type: 'boolean' } },
  preflight: { profile: { type: 'string' }, offline: { type: 'boolean' } },
  deploy: { 'skip-preflight': { type: 'boolean' } },
  destroy: { 'allow-destroy': { type: 'string' } },
  rehearse: { profile: { type: 'string' }, generators: { type: 'string' }, keep: { type: 'boolean' }, results: { type: 'string' }, 'allow-destroy': { type: 'string' } },
} as const;
const ALL_OPTIONS = { ...OPTIONS, ...OWN_OPTIONS.render, ...OWN_OPTIONS.preflight, ...OWN_OPTIONS.deploy, ...OWN_OPTIONS.destroy, ...OWN_OPTIONS.rehearse } as const;

function parse(argv: string[], playbook: PlaybookName) {
  try {
    const values = parseArgs({ args: argv, allowPositionals: false, strict: true, options: ALL_OPTIONS }).values;
    // The same parse with only this playbook's flags, so another playbook's are refused in parseArgs' words.
    const own = playbook in OWN_OPTIONS ? OWN_OPTIONS[playbook as keyof typeof OWN_OPTIONS] : {};
    parseArgs({ args: argv, allowPositionals: false, strict: true, options: { ...OPTIONS, ...own } });
    return values;
  } catch (err) {
    // parseArgs says e.g. "Unknown option '--foo'"; keep its first sentence, drop its hints (one line).
    const first = (err as Error).message.split(/\.(\s|$)/)[0] ?? 'bad arguments';
    throw new UsageError(`${first}; see --help`);
  }
}

export function parseCli(argv: string[], playbook: PlaybookName = 'deploy'): PlaybookOptions {
  const v = parse(argv, playbook);
  const extraVars: Record<string, string> = {};
  for (const pair of v['extra-vars'] ?? []) {
    const m = /^([A-Za-z_][\w.-]*)=(.*)$/s.exec(pair);
    if (!m) throw new UsageError(`-e expects key=value (for example -e region=eu-west-1), got "${pair}"`);
    extraVars[m[1]!] = m[2]!;
  }
  const options: PlaybookOptions = {
    inventory: v.inventory,
    check: v.check ?? false,
    diff: v.diff ?? false,
    tags: list(v.tags),
    skipTags: list(v['skip-tags']),
    limit: v.limit,
    verbose: (v.verbose?.length ?? 0) > 0,
    yes: v.yes ?? false,
    json: v.json,
    extraVars,
    allowReplace: list(v['allow-replace']),
    reviewMd: v['review-md'],
    keepChangeSets: v['keep-change-sets'] ?? false,
    executeReviewed: v['execute-reviewed'] ?? false,
    detailedExitcode: v['detailed-exitcode'] ?? false,
    help: v.help ?? false,
    out: v.out,
    validate: v.validate ?? false,
    allowDestroy: v['allow-destroy'],
    profile: v.profile,
    skipPreflight: v['skip-preflight'] ?? false,
    offline: v.offline ?? false,
    generators: v.generators,
    keep: v.keep ?? false,
    results: v.results,
  };
  if (options.allowDestroy === '') throw new UsageError('--allow-destroy needs the environment it allows, e.g. --allow-destroy production');
  if (options.profile === '') throw new UsageError('--profile needs a load profile, e.g. --profile loadtest/profiles/sale-day.yaml');
  if (playbook === 'rehearse' && !options.profile) throw new UsageError('rehearse needs --profile <load profile>, e.g. --profile loadtest/profiles/smoke.yaml');
  if (options.generators !== undefined && !/^[1-9]\d*$/.test(options.generators)) throw new UsageError(`--generators expects a whole number ≥ 1, e.g. --generators 2, got "${options.generators}"`);
  if (options.out === '') throw new UsageError('-o needs a folder, e.g. -o build/cloudformation');
  if (options.keepChangeSets && !options.check) {
    throw new UsageError('--keep-change-sets goes with --check (review now, execute later with --execute-reviewed)');
  }
  if (options.detailedExitcode && !options.check) {
    throw new UsageError('--detailed-exitcode goes with --check (exit 0 for no changes, 3 for changes present)');
  }
  if (options.executeReviewed && options.check) {
    throw new UsageError('--execute-reviewed executes change sets, so it cannot go with --check');
  }
  if (options.limit !== undefined && !/^[a-z][a-z0-9-]*$/.test(options.limit)) {
    throw new UsageError(`--limit expects a service name such as catalog, got "${options.limit}"`);
  }
  return options;
}
