#!/usr/bin/env node
// ./playbooks/render.mjs [-i playbooks/inventories/<env>.yaml] [-e key.path=value]... [-o <dir>] [--validate]
//                        [--check] [--json <file>] [-v]                  (--help says what each does)
//
// Renders every CloudFormation stack of one environment to <dir>/<environment>/<stack>.yaml
// (default dir build/cloudformation, default inventory production.yaml), as a playbook like the
// others: task lines, a PLAY RECAP, --json, and exit codes 0 ok, 1 usage error, 2 a task failed.
// The same inventory always gives the same bytes; unchanged files are left alone and stale ones
// removed. --validate also checks the templates against the CloudFormation resource specification,
// the security rules and the stack wiring.
import { runPlaybookScript } from './script.mjs';

await runPlaybookScript('render');
