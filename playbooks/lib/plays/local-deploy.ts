// deploy with a local inventory. The local modules (MariaDB, secrets file, fleets, gateway) come
// with the local-target work; until then the play renders and validates every template, so the
// user sees what would go to AWS, and says plainly that the rest is not there yet.
import { RefusedError } from '../errors.js';
import type { TargetRun } from '../targets.js';
import { renderAndValidate } from './template-tasks.js';

export async function deploy(run: TargetRun): Promise<void> {
  await renderAndValidate(run.play, run.source);
  await run.play.task({
    name: 'local target',
    tags: ['always'],
    run: () => {
      throw new RefusedError(
        'the local target modules are not there yet (database, secrets file, fleets, gateway); ' +
          'to deploy to AWS give an aws inventory: -i playbooks/inventories/production.yaml',
      );
    },
  });
}
