#!/usr/bin/env node
// ./playbooks/deploy.mjs [-i playbooks/inventories/<env>.yaml] [--check] [--diff] [--limit <service>]
//                        [--tags a,b] [--skip-tags a,b] [-e key=value] [--yes] [--json <file>] [-v]
//                        [--allow-replace <LogicalId>] [--review-md <file>] [--keep-change-sets]
//                        [--execute-reviewed] [--detailed-exitcode]        (--help says what each does)
//
// Deploys the shop to the inventory's target: aws (CloudFormation change sets, reviewed, then
// executed) or local (this machine; the default inventory). The play itself lives in
// playbooks/lib (compiled to dist/); this script only hands it the command line and exits with
// its code: 0 ok, 1 usage error, 2 a task failed, 3 changes present (--check --detailed-exitcode).
import { runPlaybookScript } from './script.mjs';

await runPlaybookScript('deploy');
