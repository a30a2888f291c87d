// What the emulator suites share (test/emulator/): moto for the file, a private copy of the
// scripts, a HOME of its own, the playbook scripts run as processes against the emulator with the
// emulator inventory, SDK clients to read back what happened, and the PLAY RECAP counts.
import type { Test } from 'tap';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CloudFormationClient, ListStacksCommand } from '@aws-sdk/client-cloudformation';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { ListSecretsCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { MOTO_ACCOUNT, startMoto, type Moto } from './moto.js';
import { playbookRoot, type PlaybookRoot } from './playbook-root.js';
import { ROOT, runNode, type CommandResult } from './processes.js';

/** test/fixtures/inventories/emulator.yaml: staging under the name `emulator`, every stack kind. */
export const EMULATOR_INVENTORY = join(ROOT, 'test/fixtures/inventories/emulator.yaml');
export const EMULATOR_PREFIX = 'saleday-emulator-';
export const EMULATOR_STACKS = ['network', 'database', 'cache', 'bootstrap', 'load-balancer', 'service-users', 'service-catalog', 'service-inventory', 'service-orders', 'static-site', 'monitoring', 'loadgen'];
export const EMULATOR_ARTIFACTS = `saleday-artifacts-${MOTO_ACCOUNT}-eu-west-1`;

export interface EmulatorWorld {
  moto: Moto;
  root: PlaybookRoot;
  cfn: CloudFormationClient;
  s3: S3Client;
  secrets: SecretsManagerClient;
  /** Runs a playbook script of the copy against the emulator; says in the log how long it took. */
  playbook: (name: 'deploy' | 'drift' | 'destroy', args: string[]) => Promise<CommandResult>;
  /** Every stack of the emulator that is not deleted, by name, with its status. */
  liveStacks: () => Promise<Map<string, string>>;
  /** Every secret not scheduled for deletion, by name. */
  secretNames: () => Promise<string[]>;
  objectKeys: (bucket: string) => Promise<string[]>;
}

export async function emulatorWorld(t: Test): Promise<EmulatorWorld> {
  const moto = await startMoto(t);
  const root = await playbookRoot(t);
  const home = await mkdtemp(join(tmpdir(), 'saleday-emulator-home-'));
  t.teardown(() => rm(home, { recursive: true, force: true }));
  const cfn = new CloudFormationClient(moto.clientConfig());
  const s3 = new S3Client(moto.clientConfig());
  const secrets = new SecretsManagerClient(moto.clientConfig());
  t.teardown(() => [cfn, s3, secrets].forEach((c) => c.destroy()));
  return {
    moto,
    root,
    cfn,
    s3,
    secrets,
    playbook: async (name, args) => {
      const started = Date.now();
      const r = await runNode(root.script(name), ['-i', EMULATOR_INVENTORY, ...args], { PATH: process.env.PATH ?? '', HOME: home, NODE_NO_WARNINGS: '1', ...moto.env });
      t.comment(`${name}.mjs ${args.join(' ')}: exit ${r.code} in ${((Date.now() - started) / 1000).toFixed(1)}s`);
      return r;
    },
    liveStacks: async () => {
      const out = await cfn.send(new ListStacksCommand({}));
      return new Map((out.StackSummaries ?? []).filter((s) => s.StackStatus !== 'DELETE_COMPLETE').map((s) => [s.StackName ?? '', s.StackStatus ?? '']));
    },
    secretNames: async () => {
      return ((await secrets.send(new ListSecretsCommand({}))).SecretList ?? []).filter((s) => !s.DeletedDate).map((s) => s.Name ?? '').sort();
    },
    objectKeys: async (bucket) => {
      const out = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
      return (out.Contents ?? []).map((o) => o.Key ?? '').sort();
    },
  };
}

export function expectExit(t: Test, r: CommandResult, code: number, what: string): void {
  t.equal(r.code, code, `${what}: exit ${code}`, { output: r.code === code ? undefined : `${r.stdout.slice(-4000)}\n${r.stderr.slice(-2000)}` });
}

/** The PLAY RECAP counts. */
export function recap(stdout: string): Record<'ok' | 'changed' | 'skipped' | 'failed', number> {
  const m = /ok=(\d+)\s+changed=(\d+)\s+skipped=(\d+)\s+failed=(\d+)/.exec(stdout);
  if (!m) throw new Error(`no PLAY RECAP in:\n${stdout.slice(-2000)}`);
  return { ok: Number(m[1]), changed: Number(m[2]), skipped: Number(m[3]), failed: Number(m[4]) };
}
