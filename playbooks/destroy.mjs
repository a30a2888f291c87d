#!/usr/bin/env node
// ./playbooks/destroy.mjs [-i playbooks/inventories/local.yaml] [--check] [--json <file>] [-v]
//
// Stops the local shop: drains and stops every worker, the gateway and the supervisor, and the
// private database server if deploy started one; leaves no process behind. Data and secrets stay
// in .saleday/local/ (remove the folder to start afresh). Exit codes: 0 ok, 1 usage, 2 failed.
import { path } from 'zx';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
let lib;
try {
  lib = await import(path.join(root, 'dist/playbooks/lib/playbook-env.js'));
} catch (err) {
  process.stderr.write(`destroy: the compiled playbook library is missing (${err.code ?? err.message}): run npm run build first\n`);
  process.exit(1);
}
process.exitCode = await lib.runPlaybook('destroy', process.argv.slice(2), lib.playbookEnv(root));
