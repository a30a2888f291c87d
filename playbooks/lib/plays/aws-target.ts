// The aws target: AWS clients for the inventory's region, then the deploy (after the preflight), drift or destroy play.
import { AwsClients } from '../aws/clients.js';
import type { TargetRun } from '../targets.js';
import { awsApis } from './aws-apis.js';
import { awsDeploy } from './aws-deploy.js';
import { awsDestroy } from './aws-destroy.js';
import { awsDrift } from './aws-drift.js';
import { awsOnlineChecks } from './aws-preflight.js';
import { offlinePreflightFirst, runOnlinePreflight } from './preflight.js';

export async function deploy(run: TargetRun): Promise<void> {
  // The preflight first: offline before anything, online once the credentials are known to work.
  const preflight = await offlinePreflightFirst(run);
  const clients = new AwsClients({ region: run.environment.region, ...run.aws });
  const afterCredentials = preflight ? () => runOnlinePreflight(run.play, awsOnlineChecks(run, clients).checks) : undefined;
  await awsDeploy(run.play, { environment: run.environment, stacks: run.stacks, root: run.root, apis: awsApis(clients, run.play), rotate: run.rotate, afterCredentials, preflightRan: preflight, now: run.now, duringSale: run.duringSale, imageToLatest: run.imageToLatest, ...run.deploy });
}

export async function drift(run: TargetRun): Promise<void> {
  const clients = new AwsClients({ region: run.environment.region, ...run.aws });
  await awsDrift(run.play, { stacks: run.stacks, apis: awsApis(clients, run.play) });
}

export async function destroy(run: TargetRun): Promise<void> {
  const clients = new AwsClients({ region: run.environment.region, ...run.aws });
  await awsDestroy(run.play, { environment: run.environment, inventoryFile: run.inventoryFile, stacks: run.stacks, apis: awsApis(clients, run.play) });
}
