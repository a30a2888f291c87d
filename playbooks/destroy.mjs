#!/usr/bin/env node
// ./playbooks/destroy.mjs [-i playbooks/inventories/local.yaml] [--check] [--json <file>] [-v]
//
// Stops the local shop: drains and stops every worker, the gateway and the supervisor, and the
// private database server if deploy started one; leaves no process behind. Data and secrets stay
// in .saleday/local/ (remove the folder to start afresh). Exit codes: 0 ok, 1 usage, 2 failed.
import { runPlaybookScript } from './script.mjs';

await runPlaybookScript('destroy');
