// What the playbook scripts (deploy, render, drift, status, destroy) run against: the inventory
// loader and the cloudformation/ renderers, plugged into the playbook runner. Tests plug in stand-ins
// through the same PlaybookEnv (test/playbooks/harness.ts).
import { loadEnvironment } from '../../environment/index.js';
import { runPlaybook, type PlaybookEnv } from './main.js';
import { renderedStacks } from './stack-source.js';

export { runPlaybook };

export function playbookEnv(root: string): PlaybookEnv {
  return {
    root,
    loadEnvironment: (file, opts) => loadEnvironment(file, { overrides: opts.overrides }),
    stacks: (inv, opts) => renderedStacks(inv, root, { outDir: opts.outDir }),
  };
}
