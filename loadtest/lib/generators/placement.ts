// Where generators run on AWS: what the loadgen stack and the harness artifact give the launcher
// (prepared by the playbooks, playbooks/lib/plays/loadgen.ts; used by generators/aws.ts).
export interface LoadgenPlacement {
  region: string;
  /** the ECS cluster of the loadgen stack */
  cluster: string;
  taskDefinitionArn: string;
  /** the container in the task definition that runs the harness */
  container: string;
  /** private-app subnets and the loadgen security group, for awsvpc networking */
  subnets: string[];
  securityGroups: string[];
  /** the harness as a content-addressed artifact: s3://bucket/key, checked against sha256 by the task */
  artifact: { bucket: string; key: string; sha256: string };
  /**
   * results go to s3://bucket/<prefix><run id>/<shard index>-of-<count>/. Each task is given, in
   * RunTask's containerOverrides for `container`, the environment its bootstrap reads
   * (cloudformation/lib/loadgen-bootstrap.ts): ARTIFACT_KEY and ARTIFACT_SHA256 (from `artifact`),
   * HARNESS_ARGS (./loadtest/run.mjs's arguments, a JSON array of strings) and RESULTS_KEY_PREFIX
   * (`<prefix><run id>/<shard>-of-<count>/`, ending in /; anything outside `prefix` is refused);
   * the task definition sets ARTIFACT_BUCKET and RESULTS_BUCKET (= bucket). The harness runs with
   * RESULTS_DIR set: it writes RESULTS_DIR/result.json at its end and may rewrite
   * RESULTS_DIR/status.json while it runs. Under the task's prefix land status.json (each time it
   * changed, looked at every 5 s), result.json (after the harness exits, if written) and, last and
   * always, exit.json `{code, signal, error?, stderr}` (also when the artifact was refused): the
   * task is done when exit.json is there.
   */
  results: { bucket: string; prefix: string };
  logGroup: string;
}

export interface PrepareLoadgenOptions {
  /** the AWS inventory file the generators run in */
  inventoryFile: string;
  /** the region of the loadgen stack and its tasks instead of the inventory's (--region) */
  region?: string | undefined;
  /** skip the interactive approval of the loadgen stack's change set */
  yes: boolean;
  /** progress lines for the user */
  line: (text: string) => void;
}

/** What --region and --subnets change in the placement the inventory and the loadgen stack give. */
export interface PlacementOverride {
  region?: string;
  subnets?: string[];
}

const REGION = /^[a-z]{2}(-gov)?-[a-z]+-\d$/;
const SUBNET = /^subnet-[0-9a-f]{8,17}$/;

/**
 * Checks --region and --subnets (as the command line gives them; undefined when absent) and
 * returns the override, or a sentence saying what is wrong (the caller makes it a usage error:
 * this file is the playbooks' contract and throws nothing of the harness's).
 */
export function parsePlacementOverride(region: string | undefined, subnets: string | undefined): PlacementOverride | string {
  const out: PlacementOverride = {};
  if (region !== undefined) {
    if (!REGION.test(region)) return `--region ${region} is not an AWS region (e.g. --region eu-west-1)`;
    out.region = region;
  }
  if (subnets !== undefined) {
    const ids = subnets.split(',').map((s) => s.trim());
    const bad = ids.filter((id) => !SUBNET.test(id));
    if (!ids.length || bad.length) return `--subnets ${subnets}: ${bad.map((b) => `"${b}"`).join(', ')} ${bad.length > 1 ? 'are not subnet ids' : 'is not a subnet id'} (give them comma-separated, e.g. --subnets subnet-0a1b2c3d,subnet-4e5f6a7b)`;
    out.subnets = [...new Set(ids)];
  }
  return out;
}
