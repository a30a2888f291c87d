// Targets plug their module sets into the same playbooks: each target is a module exporting a
// function per playbook (deploy, drift, ...). The aws target deploys CloudFormation; the local
// target (issue 6) adds its own file and registers it here.
import type { AwsSettings } from './aws/clients.js';
import type { Play } from './runner.js';
import type { InventoryView, TemplateSource } from './templates.js';

export interface TargetRun {
  play: Play;
  inventory: InventoryView;
  /** The inventory file as given (for messages). */
  inventoryFile: string;
  source: TemplateSource;
  root: string;
  /** Secrets to rotate (-e rotate=a,b). */
  rotate: string[];
  /** Overrides for the AWS clients (tests: poll interval, retry delays). */
  aws?: Partial<AwsSettings> | undefined;
  /** Overrides for the deploy play (tests: timeouts, static folder). */
  deploy?: { staticDir?: string; healthTimeoutMs?: number; smokeTimeoutMs?: number; smokePaths?: string[] } | undefined;
}

export type TargetPlaybook = (run: TargetRun) => Promise<void>;

export type TargetModule = Partial<Record<'deploy' | 'drift' | 'destroy' | 'status', TargetPlaybook>>;

export const TARGETS: Record<string, () => Promise<TargetModule>> = {
  aws: () => import('./plays/aws-target.js'),
  local: () => import('./plays/local-deploy.js'),
};
