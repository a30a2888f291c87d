// The entry the playbook scripts (playbooks/*.mjs, through script.mjs) load: the playbook runner
// with what a real run depends on, the inventory loader and the cloudformation/ renderers. Tests
// plug stand-ins into the same PlaybookDeps (test/playbooks/harness.ts).
import { loadEnvironment } from '../../environment/index.js';
import { runPlaybook, type PlaybookDeps } from './main.js';
import { renderedStacks } from './stack-source.js';

export { runPlaybook };

export function playbookDeps(root: string): PlaybookDeps {
  return {
    root,
    loadEnvironment: (file, opts) => loadEnvironment(file, { overrides: opts.overrides }),
    stacks: (inv, opts) => renderedStacks(inv, root, { outDir: opts.outDir, now: opts.now }),
  };
}
