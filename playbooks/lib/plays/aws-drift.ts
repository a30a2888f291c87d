// drift with an aws inventory: drift detection on every stack of the inventory, each drifted
// resource shown with its expected and actual values. Read-only, so it always runs as --check.
import { detectDrift } from '../modules/drift.js';
import type { Play } from '../runner.js';
import type { StackSource } from '../stack-source.js';
import type { AwsApis } from './aws-apis.js';
import { ok } from '../runner.js';

export interface AwsDriftConfig {
  stacks: StackSource;
  apis: AwsApis;
}

export async function awsDrift(play: Play, cfg: AwsDriftConfig): Promise<void> {
  const { apis } = cfg;
  await play.task({
    name: 'aws credentials',
    tags: ['always'],
    run: async () => {
      await apis.checkCredentials();
      return ok(`found (region ${apis.region})`);
    },
  });
  const stacks = cfg.stacks.render();
  await play.parallel(
    stacks.map((s) => ({
      name: `drift ${s.name}`,
      tags: ['stacks', s.name, ...(s.service ? ['services', s.service] : ['infra'])],
      ...(s.service ? { service: s.service } : {}),
      run: (ctx) => detectDrift(s.stackName, apis.cfn, apis.pollMs, ctx),
    })),
  );
}
