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
  /** skip the interactive approval of the loadgen stack's change set */
  yes: boolean;
  /** progress lines for the user */
  line: (text: string) => void;
}
