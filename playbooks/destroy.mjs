#!/usr/bin/env node
// ./playbooks/destroy.mjs [-i playbooks/inventories/local.yaml] [--check] [--yes] [--allow-destroy <env>] [--json <file>] [-v]
//
// Tears the environment down. An aws inventory: its stacks are deleted in the reverse of the deploy
// order after a review of what goes and what is kept (playbooks/README.md, AWS teardown); a
// protected inventory (database.deletionProtection: true) needs --allow-destroy <environment>.
// The local target: drains and stops every worker, the gateway and the supervisor, and the private
// database server if deploy started one; leaves no process behind. Data and secrets stay in
// .saleday/local/ (remove the folder to start afresh). Exit codes: 0 ok, 1 usage, 2 failed or refused.
import { runPlaybookScript } from './script.mjs';

await runPlaybookScript('destroy');
