// Targets plug their module sets into the same playbooks: each target is a module exporting a
// function per playbook (deploy, drift, ...). The aws target deploys CloudFormation; the local
// target runs the shop on this machine. Render is the same for every target (plays/render.ts).
// Which module set each target name loads is target-modules.ts (the plays import this file).
import type { Environment } from '../../environment/index.js';
import type { AwsSettings } from './aws/clients.js';
import type { Play } from './runner.js';
import type { StackSource } from './stack-source.js';

export interface TargetRun {
  play: Play;
  /** The environment, as the inventory file describes it. */
  environment: Environment;
  /** The inventory file as given (for messages). */
  inventoryFile: string;
  /** The environment's stacks, rendered through cloudformation/. */
  stacks: StackSource;
  root: string;
  /** Secrets to rotate (-e rotate=a,b). */
  rotate: string[];
  /** The time of this run (the clock, or render's -e now=): sale events are placed against it. */
  now: Date;
  /** The sale event a deploy may go on during (-e during-sale=<name>). */
  duringSale?: string | undefined;
  /** -e ami=latest: service stacks move to the latest Amazon Linux 2023 AMI. */
  imageToLatest?: boolean | undefined;
  /** Overrides for the AWS clients (tests: poll interval, retry delays). */
  aws?: Partial<AwsSettings> | undefined;
  /** Overrides for the deploy play (tests: timeouts, static folder). */
  deploy?: { staticDir?: string; healthTimeoutMs?: number; smokeTimeoutMs?: number; smokePaths?: string[] } | undefined;
}

export type TargetPlaybook = (run: TargetRun) => Promise<void>;

export type TargetModule = Partial<Record<'deploy' | 'drift' | 'destroy' | 'status', TargetPlaybook>>;
