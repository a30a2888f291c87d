#!/usr/bin/env node
// ./playbooks/drift.mjs -i playbooks/inventories/<env>.yaml [--limit <service>] [--json <file>]
//                       [--detailed-exitcode] [-v]
//
// Runs CloudFormation drift detection on every stack of an aws inventory and shows each drifted
// resource with its expected and actual values. Read-only: it always runs as a check, so
// --detailed-exitcode exits 3 when something drifted and 0 when everything is in sync.
import { path } from 'zx';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
let lib;
try {
  lib = await import(path.join(root, 'dist/playbooks/lib/playbook-env.js'));
} catch (err) {
  process.stderr.write(`drift: the compiled playbook library is missing (${err.code ?? err.message}): run npm run build first\n`);
  process.exit(1);
}
process.exitCode = await lib.runPlaybook('drift', process.argv.slice(2), lib.playbookEnv(root));
