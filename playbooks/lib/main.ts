// The entry every playbook script calls: parse the command line, load the inventory, pick the
// target's module set, run the play, return the exit code (0 ok, 1 usage, 2 failed, 3 changes
// present with --check --detailed-exitcode, 130 interrupted).
import { resolve } from 'node:path';
import type { AwsSettings } from './aws/clients.js';
import { type PlaybookOptions, parseCli, usage } from './cli.js';
import { UsageError, errorMessage } from './errors.js';
import { Output } from './output.js';
import { EXIT, runPlay } from './runner.js';
import { TARGETS, type TargetModule, type TargetRun } from './targets.js';
import type { InventoryView, TemplateSource } from './templates.js';

export type PlaybookName = 'deploy' | 'drift' | 'status' | 'destroy';

export interface PlaybookEnv {
  /** Repository root. */
  root: string;
  loadEnvironment(file: string, opts: { overrides: Record<string, string> }): Promise<InventoryView> | InventoryView;
  templates(inventory: InventoryView): TemplateSource;
  output?: Output;
  aws?: Partial<AwsSettings>;
  deploy?: TargetRun['deploy'];
  /** Where usage errors go (stderr). */
  error?: (line: string) => void;
}

/** -e keys the playbook itself reads; the rest override inventory values. */
const PLAYBOOK_VARS = new Set(['rotate']);

export async function runPlaybook(playbook: PlaybookName, argv: string[], env: PlaybookEnv): Promise<number> {
  const error = env.error ?? ((line: string) => process.stderr.write(`${line}\n`));
  let options: PlaybookOptions;
  try {
    // Drift detection changes nothing, so drift always runs as a check (and --detailed-exitcode works).
    options = parseCli(playbook === 'drift' && !argv.includes('--check') ? [...argv, '--check'] : argv);
  } catch (err) {
    error(`error: ${errorMessage(err)}`);
    return EXIT.usage;
  }
  if (options.help) {
    (env.output ?? new Output()).line(usage(playbook));
    return EXIT.ok;
  }

  const inventoryFile = options.inventory ?? resolve(env.root, 'playbooks/inventories/local.yaml');
  const overrides = Object.fromEntries(Object.entries(options.extraVars).filter(([k]) => !PLAYBOOK_VARS.has(k)));
  const rotate = (options.extraVars.rotate ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  let inventory: InventoryView;
  let target: TargetModule;
  try {
    inventory = await env.loadEnvironment(inventoryFile, { overrides });
    if (options.limit !== undefined && !(options.limit in inventory.services)) {
      throw new UsageError(`--limit ${options.limit}: no such service in ${inventoryFile} (services: ${Object.keys(inventory.services).join(', ')})`);
    }
    const load = TARGETS[inventory.target];
    if (!load) throw new UsageError(`${inventoryFile}: target "${inventory.target}" has no module set (known: ${Object.keys(TARGETS).join(', ')})`);
    target = await load();
    if (!target[playbook]) throw new UsageError(`${playbook} does not apply to the ${inventory.target} target`);
  } catch (err) {
    error(`error: ${options.verbose && err instanceof Error && !(err instanceof UsageError) ? err.stack : errorMessage(err)}`);
    return EXIT.usage;
  }

  const output = env.output ?? new Output({ verbose: options.verbose });
  const title = `${playbook} ${inventory.environment} · ${inventory.target}${inventory.target === 'aws' ? ` ${inventory.region}` : ''}`;
  return runPlay({ playbook, title, options, output }, (play) =>
    target[playbook]!({
      play,
      inventory,
      inventoryFile,
      source: env.templates(inventory),
      root: env.root,
      rotate,
      aws: env.aws,
      deploy: env.deploy,
    }),
  );
}
