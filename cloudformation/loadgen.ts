// loadgen: where load generators run on AWS, costing nothing while idle. An ECS cluster (Fargate,
// and Fargate Spot for runs that allow it), one task definition on a stock Node.js image that
// fetches the harness as a content-addressed artifact from the artifacts bucket and checks its
// sha256 (lib/loadgen-bootstrap.ts), a task role that may read the harness artifacts and write
// the results prefix and nothing else, an execution role that may write the log group and nothing
// else, the log group, and a security group with HTTPS out only. Tasks run in the private app
// subnets (network stack). The launcher gives each task its artifact key, sha256, harness
// arguments and results prefix at run time; results land in s3://<bucket>/loadgen-results/....
import type { Environment, ServiceCatalogue } from '../environment/index.js';
import { LOADGEN_BOOTSTRAP, LOADGEN_RESULTS_PREFIX } from './lib/loadgen-bootstrap.js';
import { ARTIFACT_BUCKET, StackBuilder, stackOutputs, subnetList, VPC_ID, type RenderedStack } from './lib/stack.js';
import { getAtt, ref, sub } from './lib/template.js';
import { NETWORK } from './network.js';

/** The harness's artifact, built and uploaded like a service's: artifacts/loadgen/<sha256>.tgz. */
export const LOADGEN_ARTIFACT = 'loadgen';
export { LOADGEN_RESULTS_PREFIX };
/** A stock image: Node.js on Debian (tar included), from the ECR Public mirror of Docker's official images. */
export const LOADGEN_IMAGE = 'public.ecr.aws/docker/library/node:22-bookworm-slim';
export const LOADGEN_CONTAINER = 'generator';
/** The run's start object the launcher writes under <results prefix><run id>/ once every task is ready. */
export const LOADGEN_START_FILE = 'start-at.json';

export const LOADGEN = stackOutputs('loadgen', ['ClusterName', 'TaskDefinitionArn', 'SecurityGroupId', 'SubnetIds', 'LogGroupName']);

export function renderLoadgen(inv: Environment, _services: ServiceCatalogue): RenderedStack {
  const t = new StackBuilder(inv, LOADGEN.ClusterName.stack,
    'Load generators on ECS Fargate (Spot where a run allows it): a cluster, a task definition on a stock Node.js image that fetches the harness artifact and checks its sha256, a least-privilege task role, a log group. Idle, it costs nothing.');
  const vpcId = t.param('VpcId', VPC_ID, NETWORK.VpcId);
  t.param('PrivateAppSubnetIds', subnetList('Private-app subnets (network stack output PrivateAppSubnetIds): the tasks run there and reach out through the NAT'), NETWORK.PrivateAppSubnetIds);
  const bucket = t.param('ArtifactBucket', ARTIFACT_BUCKET, { from: 'artifact', service: LOADGEN_ARTIFACT, field: 'bucket' });
  const name = t.prefixed('loadgen');

  t.resource('Cluster', {
    Type: 'AWS::ECS::Cluster',
    Properties: {
      ClusterName: name,
      CapacityProviders: ['FARGATE', 'FARGATE_SPOT'],
      DefaultCapacityProviderStrategy: [{ CapacityProvider: 'FARGATE', Weight: 1 }],
      ClusterSettings: [{ Name: 'containerInsights', Value: 'disabled' }],
      Tags: t.tags(),
    },
  });
  // Kept on teardown, like every log group here: what a rehearsal's generators said outlives it.
  t.resource('LogGroup', {
    Type: 'AWS::Logs::LogGroup',
    DeletionPolicy: 'Retain',
    UpdateReplacePolicy: 'Retain',
    Properties: { LogGroupName: `/${inv.project}/${inv.environment}/loadgen`, RetentionInDays: inv.monitoring.logRetentionDays, Tags: t.tags() },
  });
  t.resource('SecurityGroup', {
    Type: 'AWS::EC2::SecurityGroup',
    Properties: {
      GroupDescription: `${name}: load generators; no ingress, HTTPS out (S3, the image, the shop)`,
      VpcId: vpcId,
      SecurityGroupEgress: [{ IpProtocol: 'tcp', FromPort: 443, ToPort: 443, CidrIp: '0.0.0.0/0', Description: 'HTTPS: S3, the image registry, the shop under test' }],
      Tags: t.tags({ Name: name }),
    },
  });
  const assume = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'ecs-tasks.amazonaws.com' }, Action: 'sts:AssumeRole' }] };
  t.resource('ExecutionRole', {
    Type: 'AWS::IAM::Role',
    Properties: {
      Description: `${name}: ECS starts the generator and sends its output to the log group (the image is public: no registry access)`,
      AssumeRolePolicyDocument: assume,
      Policies: [{
        PolicyName: 'write-logs',
        PolicyDocument: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: sub('${LogGroup.Arn}') }] },
      }],
      Tags: t.tags(),
    },
  });
  t.resource('TaskRole', {
    Type: 'AWS::IAM::Role',
    Properties: {
      Description: `${name}: read the harness artifacts, write the results prefix; nothing else`,
      AssumeRolePolicyDocument: assume,
      Policies: [{
        PolicyName: 'harness-artifact-and-results',
        PolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            { Sid: 'ReadHarness', Effect: 'Allow', Action: 's3:GetObject', Resource: sub(`arn:\${AWS::Partition}:s3:::\${ArtifactBucket}/${inv.artifacts.keyPrefix}${LOADGEN_ARTIFACT}/*`) },
            { Sid: 'WriteResults', Effect: 'Allow', Action: 's3:PutObject', Resource: sub(`arn:\${AWS::Partition}:s3:::\${ArtifactBucket}/${LOADGEN_RESULTS_PREFIX}*`) },
            // The launcher's start signal: a task waits for its run's start object and reads nothing
            // else there. Listing the results prefix makes a not-yet-written object a 404, not a 403.
            { Sid: 'ReadStart', Effect: 'Allow', Action: 's3:GetObject', Resource: sub(`arn:\${AWS::Partition}:s3:::\${ArtifactBucket}/${LOADGEN_RESULTS_PREFIX}*/${LOADGEN_START_FILE}`) },
            {
              Sid: 'ListResults',
              Effect: 'Allow',
              Action: 's3:ListBucket',
              Resource: sub('arn:${AWS::Partition}:s3:::${ArtifactBucket}'),
              Condition: { StringLike: { 's3:prefix': `${LOADGEN_RESULTS_PREFIX}*` } },
            },
          ],
        },
      }],
      Tags: t.tags(),
    },
  });
  t.resource('TaskDefinition', {
    Type: 'AWS::ECS::TaskDefinition',
    Properties: {
      Family: name,
      RequiresCompatibilities: ['FARGATE'],
      NetworkMode: 'awsvpc',
      // One vCPU per generator: the harness is one Node.js process.
      Cpu: '1024',
      Memory: '2048',
      RuntimePlatform: { OperatingSystemFamily: 'LINUX', CpuArchitecture: 'ARM64' },
      ExecutionRoleArn: getAtt('ExecutionRole', 'Arn'),
      TaskRoleArn: getAtt('TaskRole', 'Arn'),
      ContainerDefinitions: [{
        Name: LOADGEN_CONTAINER,
        Image: LOADGEN_IMAGE,
        Essential: true,
        Command: ['node', '-e', LOADGEN_BOOTSTRAP],
        // The launcher adds ARTIFACT_KEY, ARTIFACT_SHA256, HARNESS_ARGS and RESULTS_KEY_PREFIX per
        // task (containerOverrides); the bootstrap's header says what each means.
        Environment: [
          { Name: 'ARTIFACT_BUCKET', Value: bucket },
          { Name: 'RESULTS_BUCKET', Value: bucket },
        ],
        // Time after SIGTERM (a Spot interruption, StopTask) for the harness to write its result and the bootstrap to put it in S3.
        StopTimeout: 60,
        ReadonlyRootFilesystem: false,
        LogConfiguration: {
          LogDriver: 'awslogs',
          Options: { 'awslogs-group': ref('LogGroup'), 'awslogs-region': ref('AWS::Region'), 'awslogs-stream-prefix': 'generator' },
        },
      }],
      Tags: t.tags(),
    },
  });

  t.output(LOADGEN.ClusterName, 'The cluster generator tasks run in', ref('Cluster'));
  t.output(LOADGEN.TaskDefinitionArn, 'The generator task definition', ref('TaskDefinition'));
  t.output(LOADGEN.SecurityGroupId, 'The generators\' security group', getAtt('SecurityGroup', 'GroupId'));
  t.output(LOADGEN.SubnetIds, 'The subnets generator tasks run in', { 'Fn::Join': [',', ref('PrivateAppSubnetIds')] });
  t.output(LOADGEN.LogGroupName, 'The generators\' log group', ref('LogGroup'));
  return t.build();
}
