// bootstrap: the database bootstrap as a Lambda function in the private app subnets, the one place
// inside the VPC that may reach the database as its master user. The deploy play invokes it after
// the database, the secrets and the artifacts and before the service stacks: it makes each service's
// database and user from its secret (REQUIRE SSL), re-syncs changed passwords, runs pending
// migrations, seeds where the inventory asks (database.seed) and keeps the admin account's
// password in Secrets Manager. Its code is the content-addressed bootstrap artifact (a zip of the
// handler and every service's operator commands).
import type { Environment, ServiceCatalogue } from '../environment/index.js';
import { dbSecretArn, DATABASE } from './database.js';
import { ARTIFACT_BUCKET, fromOutput, pascal, secretArn, securityGroupId, StackBuilder, stackOutputs, subnetList, VPC_ID, CIDR, type Input, type RenderedStack } from './lib/stack.js';
import { NETWORK } from './network.js';
import { getAtt, ref, sub } from './lib/template.js';

/** The artifact the function runs (built by the playbook like a service's, as a zip). */
export const BOOTSTRAP_ARTIFACT = 'bootstrap';
/** The handler inside the artifact: dist/playbooks/lib/bootstrap/handler.js, export `handler`. */
export const BOOTSTRAP_HANDLER_PROGRAM = 'dist/playbooks/lib/bootstrap/handler.js';
/** The admin account's secret, `<project>/<environment>/admin` {email, password}, made by the function. */
export const adminSecretName = (inv: Environment): string => `${inv.project}/${inv.environment}/admin`;

export const BOOTSTRAP = stackOutputs('bootstrap', ['FunctionName']);

const database = (output: string) => fromOutput(DATABASE.DbInstanceIdentifier.stack, output);
/** Long enough for a full seed of staging; Lambda's maximum. */
const TIMEOUT_SECONDS = 900;

export function renderBootstrap(inv: Environment, services: ServiceCatalogue): RenderedStack {
  const t = new StackBuilder(inv, BOOTSTRAP.FunctionName.stack,
    `The database bootstrap: a Lambda function in the private app subnets that creates each of the ${services.length} services' ` +
    'databases and users, runs their migrations' + (inv.database.seed ? ', seeds catalog and stock' : '') + ' and keeps the admin account; invoked by the deploy playbook.');

  const vpcId = t.param('VpcId', VPC_ID, NETWORK.VpcId);
  const vpcCidr = t.param('VpcCidr', { ...CIDR, Description: 'The VPC block (network stack output VpcCidr): the Secrets Manager endpoint lives in it' }, NETWORK.VpcCidr);
  const subnets = t.param('PrivateAppSubnetIds', subnetList('Private-app subnets (network stack output PrivateAppSubnetIds)'), NETWORK.PrivateAppSubnetIds);
  const dbSg = t.param('DatabaseSecurityGroupId', securityGroupId('The database security group (database stack output)'), DATABASE.DatabaseSecurityGroupId);
  t.param('DbEndpointAddress', {
    Type: 'String',
    Description: 'The primary endpoint host name (database stack output DbEndpointAddress)',
    AllowedPattern: '^[a-z0-9.-]+$',
    ConstraintDescription: 'a host name',
  }, database('DbEndpointAddress'));
  t.param('DbEndpointPort', {
    Type: 'String',
    Description: 'The primary endpoint port (database stack output DbEndpointPort)',
    AllowedPattern: '^[0-9]{1,5}$',
    ConstraintDescription: 'a port number',
  }, database('DbEndpointPort'));
  t.param('DbMasterUserSecretArn', secretArn('The master user secret RDS keeps (database stack output DbMasterUserSecretArn)'), database('DbMasterUserSecretArn'));
  const serviceSecrets = services.map((d) => ({ service: d.name, param: `${pascal(d.name)}DbSecretArn` }));
  for (const s of serviceSecrets) t.param(s.param, secretArn(`The ${s.service} database secret (database stack output ${dbSecretArn(s.service).output})`), dbSecretArn(s.service));
  const artifact = (field: 'bucket' | 'key'): Input => ({ from: 'artifact', service: BOOTSTRAP_ARTIFACT, field });
  t.param('ArtifactBucket', ARTIFACT_BUCKET, artifact('bucket'));
  t.param('ArtifactKey', {
    Type: 'String',
    Description: 'The bootstrap artifact (a zip) in the bucket; content-addressed, so new code is a new key',
    AllowedPattern: '^[A-Za-z0-9][A-Za-z0-9/._-]{0,1023}$',
    ConstraintDescription: 'an S3 key of letters, digits and /._-',
  }, artifact('key'));

  const functionName = t.prefixed('bootstrap');
  const adminSecret = adminSecretName(inv);
  t.resource('FunctionRole', {
    Type: 'AWS::IAM::Role',
    Properties: {
      Description: `${functionName}: network interfaces in the VPC, its log group, the master and service secrets, the admin secret`,
      AssumeRolePolicyDocument: {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
      },
      ManagedPolicyArns: [sub('arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole')],
      Policies: [
        {
          PolicyName: 'read-database-secrets',
          PolicyDocument: {
            Version: '2012-10-17',
            Statement: [{
              Effect: 'Allow',
              Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'],
              Resource: [ref('DbMasterUserSecretArn'), ...serviceSecrets.map((s) => ref(s.param))],
            }, {
              // -e rotate=database: the function gives a service's other user a new password, then its secret names it.
              Effect: 'Allow',
              Action: ['secretsmanager:PutSecretValue'],
              Resource: serviceSecrets.map((s) => ref(s.param)),
            }],
          },
        },
        {
          PolicyName: 'keep-admin-secret',
          PolicyDocument: {
            Version: '2012-10-17',
            Statement: [{
              Effect: 'Allow',
              Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret', 'secretsmanager:PutSecretValue', 'secretsmanager:CreateSecret', 'secretsmanager:TagResource'],
              // Secrets Manager appends six random characters to a secret's name in its ARN.
              Resource: sub(`arn:\${AWS::Partition}:secretsmanager:\${AWS::Region}:\${AWS::AccountId}:secret:${adminSecret}-??????`),
            }],
          },
        },
      ],
      Tags: t.tags(),
    },
  });

  t.resource('FunctionSecurityGroup', {
    Type: 'AWS::EC2::SecurityGroup',
    Properties: {
      GroupDescription: `${functionName}: MySQL to the database, HTTPS to the Secrets Manager endpoint in the VPC`,
      VpcId: vpcId,
      SecurityGroupEgress: [
        { IpProtocol: 'tcp', FromPort: 3306, ToPort: 3306, DestinationSecurityGroupId: dbSg, Description: 'MySQL' },
        { IpProtocol: 'tcp', FromPort: 443, ToPort: 443, CidrIp: vpcCidr, Description: 'HTTPS to the Secrets Manager endpoint' },
      ],
      Tags: t.tags({ Name: functionName }),
    },
  });
  t.resource('DatabaseIngress', {
    Type: 'AWS::EC2::SecurityGroupIngress',
    Properties: {
      GroupId: dbSg,
      IpProtocol: 'tcp',
      FromPort: 3306,
      ToPort: 3306,
      SourceSecurityGroupId: getAtt('FunctionSecurityGroup', 'GroupId'),
      Description: 'MySQL from the database bootstrap',
    },
  });

  t.resource('FunctionLogGroup', {
    Type: 'AWS::Logs::LogGroup',
    DeletionPolicy: 'Retain',
    UpdateReplacePolicy: 'Retain',
    Properties: { LogGroupName: `/aws/lambda/${functionName}`, RetentionInDays: inv.monitoring.logRetentionDays, Tags: t.tags() },
  });

  const handler = `${BOOTSTRAP_HANDLER_PROGRAM.replace(/\.js$/, '')}.handler`;
  t.resource('Function', {
    Type: 'AWS::Lambda::Function',
    DependsOn: ['FunctionLogGroup'],
    Properties: {
      FunctionName: functionName,
      Description: `${functionName}: databases, users, migrations${inv.database.seed ? ', seeds' : ''} and the admin account of each service`,
      Runtime: 'nodejs22.x',
      Handler: handler,
      Code: { S3Bucket: ref('ArtifactBucket'), S3Key: ref('ArtifactKey') },
      Role: getAtt('FunctionRole', 'Arn'),
      MemorySize: 1024,
      Timeout: TIMEOUT_SECONDS,
      // No reserved concurrency: a new account's limit (10) leaves none to reserve, and the deploy
      // invokes it once; two deploys at once still migrate one at a time (the named lock).
      VpcConfig: { SubnetIds: subnets, SecurityGroupIds: [getAtt('FunctionSecurityGroup', 'GroupId')] },
      Environment: {
        Variables: {
          DB_HOST: ref('DbEndpointAddress'),
          DB_PORT: ref('DbEndpointPort'),
          DB_MASTER_SECRET: sub('aws:${DbMasterUserSecretArn}'),
          SERVICE_DB_SECRETS: sub(serviceSecrets.map((s) => `${s.service}=aws:\${${s.param}}`).join(',')),
          ADMIN_SECRET: `aws:${adminSecret}`,
          SEED: inv.database.seed ? 'true' : 'false',
          PROJECT: inv.project,
          ENVIRONMENT: inv.environment,
        },
      },
      Tags: t.tags(),
    },
  });

  t.output(BOOTSTRAP.FunctionName, 'The bootstrap function the deploy playbook invokes', ref('Function'));
  return t.build();
}
