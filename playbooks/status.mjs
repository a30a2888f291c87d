#!/usr/bin/env node
// ./playbooks/status.mjs [-i playbooks/inventories/local.yaml] [--json <file>] [-v]
//
// Shows the local shop: the gateway URL, each service's fleet (min / desired / max, size, workers)
// and the most recent scaling activities, like `aws autoscaling describe-scaling-activities`.
// Exit codes: 0 ok, 1 usage error, 2 a task failed.
import { runPlaybookScript } from './script.mjs';

await runPlaybookScript('status');
