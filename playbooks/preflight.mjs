#!/usr/bin/env node
// ./playbooks/preflight.mjs [-i playbooks/inventories/<env>.yaml] [--profile <load profile>] [--offline]
//                           [-e key=value] [--json <file>] [-v]                (--help says what each does)
//
// Predicts a deploy's failures and a sale day's limits before anything starts: offline checks of
// the inventory (certificates, architectures, scaling, the database connection budget, capacity
// against a load profile's peak) and, for an aws inventory, read-only checks of the account
// (quotas, offerings, certificates, names, permissions, the deploy's duration). Changes nothing.
// Exit codes: 0 no error-level finding, 1 usage error, 2 an error-level finding.
import { runPlaybookScript } from './script.mjs';

await runPlaybookScript('preflight');
