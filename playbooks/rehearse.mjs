#!/usr/bin/env node
// ./playbooks/rehearse.mjs -i <inventory> --profile <load profile> [--generators N] [--keep]
//                          [--allow-destroy <env>] [--yes] [-e key=value] [--json <file>] [-v]
//
// A sale-day rehearsal in one command: preflight (with the profile's peak) → deploy (review and
// approval as usual) → the load from the generators → verdict and report (scaling probes on the
// environment's groups) → teardown unless --keep (a protected environment needs --allow-destroy,
// as for destroy). The recap gives the verdict and the cost in instance-hours from the fleet
// samples. Exit codes: 0 the rehearsal passed, 1 usage error, 2 a task failed (the load's verdict too).
import { runPlaybookScript } from './script.mjs';

await runPlaybookScript('rehearse');
