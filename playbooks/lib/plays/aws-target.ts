// The aws target: AWS clients for the inventory's region, then the deploy or drift play.
import { AwsClients } from '../aws/clients.js';
import type { TargetRun } from '../targets.js';
import { awsApis } from './aws-apis.js';
import { awsDeploy } from './aws-deploy.js';
import { awsDrift } from './aws-drift.js';

export async function deploy(run: TargetRun): Promise<void> {
  const clients = new AwsClients({ region: run.environment.region, ...run.aws });
  await awsDeploy(run.play, { environment: run.environment, stacks: run.stacks, root: run.root, apis: awsApis(clients, run.play), rotate: run.rotate, now: run.now, duringSale: run.duringSale, imageToLatest: run.imageToLatest, ...run.deploy });
}

export async function drift(run: TargetRun): Promise<void> {
  const clients = new AwsClients({ region: run.environment.region, ...run.aws });
  await awsDrift(run.play, { stacks: run.stacks, apis: awsApis(clients, run.play) });
}
