// The entry every playbook script calls: parse the command line, load the inventory, pick the
// target's module set (render and preflight are the same for every target), run the play, return the exit code
// (0 ok, 1 usage, 2 failed, 3 changes present with --check --detailed-exitcode, 130 interrupted).
import { resolve } from 'node:path';
import type { Environment } from '../../environment/index.js';
import type { AwsSettings } from './aws/clients.js';
import { defaultInventory, parseCli, usage, type PlaybookName, type PlaybookOptions } from './cli.js';
import { UsageError, errorMessage } from './errors.js';
import { Output } from './output.js';
import { preflightPlay } from './plays/preflight.js';
import { rehearsal } from './plays/rehearse.js';
import { renderPlay } from './plays/render.js';
import { EXIT, runPlay } from './runner.js';
import type { StackSource } from './stack-source.js';
import { TARGETS } from './target-modules.js';
import type { TargetModule, TargetPlaybook, TargetRun } from './targets.js';

export type { PlaybookName } from './cli.js';

/** What a playbook run depends on: real ones in scripts.ts, stand-ins in tests. */
export interface PlaybookDeps {
  /** Repository root. */
  root: string;
  loadEnvironment(file: string, opts: { overrides: Record<string, string> }): Promise<Environment> | Environment;
  /** The environment's stacks; `outDir` is render's -o (the folder the environment's folder goes in), `now` the time they are for. */
  stacks(environment: Environment, opts: { outDir?: string | undefined; now: Date }): StackSource;
  output?: Output;
  aws?: Partial<AwsSettings>;
  deploy?: TargetRun['deploy'];
  /** Where usage errors go (stderr). */
  error?: (line: string) => void;
}

/** -e keys the playbook itself reads; the rest override inventory values (-e ami=<id> too; -e ami=latest is the playbook's). */
const PLAYBOOK_VARS = new Set(['rotate', 'now', 'during-sale']);
const playbookVar = (key: string, value: string): boolean => PLAYBOOK_VARS.has(key) || (key === 'ami' && value === 'latest');

/** render's -e now=<ISO time>: the templates for another time (the golden templates); other playbooks use the clock. */
function runTime(playbook: PlaybookName, value: string | undefined): Date {
  if (value === undefined) return new Date();
  if (playbook !== 'render') throw new UsageError(`-e now=${value}: only render takes another time; ${playbook} always uses the clock`);
  const ms = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?Z$/.test(value) ? Date.parse(value) : NaN;
  if (Number.isNaN(ms)) throw new UsageError(`-e now=${value}: expected an ISO 8601 UTC time such as 2026-12-01T00:00:00Z`);
  return new Date(ms);
}

export async function runPlaybook(playbook: PlaybookName, argv: string[], deps: PlaybookDeps): Promise<number> {
  const error = deps.error ?? ((line: string) => process.stderr.write(`${line}\n`));
  let options: PlaybookOptions;
  try {
    // Drift detection changes nothing, so drift always runs as a check (and --detailed-exitcode works).
    options = parseCli(playbook === 'drift' && !argv.includes('--check') ? [...argv, '--check'] : argv, playbook);
  } catch (err) {
    error(`error: ${errorMessage(err)}`);
    return EXIT.usage;
  }
  if (options.help) {
    (deps.output ?? new Output()).line(usage(playbook));
    return EXIT.ok;
  }

  const inventoryFile = options.inventory ?? resolve(deps.root, defaultInventory(playbook));
  const overrides = Object.fromEntries(Object.entries(options.extraVars).filter(([k, v]) => !playbookVar(k, v)));
  const rotate = (options.extraVars.rotate ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  let environment: Environment;
  let play: TargetPlaybook;
  let now: Date;
  try {
    now = runTime(playbook, options.extraVars.now);
    environment = await deps.loadEnvironment(inventoryFile, { overrides });
    if (options.limit !== undefined && !(options.limit in environment.services)) {
      throw new UsageError(`--limit ${options.limit}: no such service in ${inventoryFile} (services: ${Object.keys(environment.services).join(', ')})`);
    }
    play =
      playbook === 'render' ? renderPlay
      : playbook === 'preflight' ? preflightPlay
      : playbook === 'rehearse' ? rehearsal(await targetModule(environment, inventoryFile))
      : await targetPlaybook(playbook, environment, inventoryFile);
  } catch (err) {
    error(`error: ${options.verbose && err instanceof Error && !(err instanceof UsageError) ? err.stack : errorMessage(err)}`);
    return EXIT.usage;
  }

  const output = deps.output ?? new Output({ verbose: options.verbose });
  const title = `${playbook} ${environment.environment} · ${environment.target}${environment.target === 'aws' ? ` ${environment.region}` : ''}`;
  const outDir = options.out === undefined ? undefined : resolve(options.out);
  return runPlay({ playbook, title, options, output }, (p) =>
    play({
      play: p,
      environment,
      inventoryFile,
      stacks: deps.stacks(environment, { outDir, now }),
      root: deps.root,
      rotate,
      now,
      duringSale: options.extraVars['during-sale'],
      imageToLatest: options.extraVars.ami === 'latest',
      aws: deps.aws,
      deploy: deps.deploy,
    }),
  );
}

async function targetModule(environment: Environment, inventoryFile: string): Promise<TargetModule> {
  const load = TARGETS[environment.target];
  if (!load) throw new UsageError(`${inventoryFile}: target "${environment.target}" has no module set (known: ${Object.keys(TARGETS).join(', ')})`);
  return load();
}

async function targetPlaybook(playbook: Exclude<PlaybookName, 'render' | 'preflight' | 'rehearse'>, environment: Environment, inventoryFile: string): Promise<TargetPlaybook> {
  const play = (await targetModule(environment, inventoryFile))[playbook];
  if (!play) throw new UsageError(`${playbook} does not apply to the ${environment.target} target`);
  return play;
}
