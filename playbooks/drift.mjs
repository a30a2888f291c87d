#!/usr/bin/env node
// ./playbooks/drift.mjs -i playbooks/inventories/<env>.yaml [--limit <service>] [--json <file>]
//                       [--detailed-exitcode] [-v]
//
// Runs CloudFormation drift detection on every stack of an aws inventory and shows each drifted
// resource with its expected and actual values. Read-only: it always runs as a check, so
// --detailed-exitcode exits 3 when something drifted and 0 when everything is in sync.
import { runPlaybookScript } from './script.mjs';

await runPlaybookScript('drift');
