#!/usr/bin/env node
// ./playbooks/status.mjs [-i playbooks/inventories/local.yaml] [--json <file>] [-v]
//
// Shows the local shop: the gateway URL, each service's fleet (min / desired / max, size, workers)
// and the most recent scaling activities, like `aws autoscaling describe-scaling-activities`.
// Exit codes: 0 ok, 1 usage error, 2 a task failed.
import { path } from 'zx';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
let lib;
try {
  lib = await import(path.join(root, 'dist/playbooks/lib/playbook-env.js'));
} catch (err) {
  process.stderr.write(`status: the compiled playbook library is missing (${err.code ?? err.message}): run npm run build first\n`);
  process.exit(1);
}
process.exitCode = await lib.runPlaybook('status', process.argv.slice(2), lib.playbookEnv(root));
