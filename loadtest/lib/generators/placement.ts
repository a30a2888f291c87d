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
  /** results go to s3://bucket/<prefix><run id>/<shard index>-of-<count>/ (result.json, partial status) */
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
