// database: RDS MySQL (the inventory's pinned 8.4 minor), Multi-AZ, encrypted with its own KMS key, private, TLS required, with
// optional read replicas. The master password is generated and kept by Secrets Manager
// (ManageMasterUserPassword), and every service gets its own generated secret in the shape
// {engine, host, port, username, password, dbname}. Creating those MySQL users is the playbook's
// job (CloudFormation cannot run SQL); the stack says so in its outputs.
import { SHOP_SERVICES, type Environment, type ServiceCatalogue } from '../environment/index.js';
import { fromOutput, pascal, StackBuilder, stackOutputs, subnetList, VPC_ID, type OutputRef, type RenderedStack } from './lib/stack.js';
import { NETWORK } from './network.js';
import { getAtt, join, ref, sub } from './lib/template.js';
import { noEgressSecurityGroup } from './lib/data-tier.js';

export const MASTER_USERNAME = 'dbadmin';

/** The outputs other stacks take. */
export const DATABASE = stackOutputs('database', ['DbInstanceIdentifier', 'DatabaseSecurityGroupId', 'ReadReplicaEndpoints']);
/** A service's own database secret. */
export const dbSecretArn = (service: string): OutputRef => fromOutput(DATABASE.DbInstanceIdentifier.stack, `${pascal(service)}DbSecretArn`);
/** The identifier of read replica `n` (from 1). */
export const replicaIdentifier = (n: number): OutputRef => fromOutput(DATABASE.DbInstanceIdentifier.stack, `ReadReplica${n}Identifier`);

export function renderDatabase(inv: Environment, services: ServiceCatalogue = SHOP_SERVICES): RenderedStack {
  const db = inv.database;
  const t = new StackBuilder(inv, DATABASE.DbInstanceIdentifier.stack,
    `RDS MySQL ${db.engineVersion} (${db.instanceClass}, Multi-AZ, encrypted, TLS only) with ${db.readReplicas} read replica(s), ` +
    'the master password kept by Secrets Manager, and one generated secret per service user.');
  const vpcId = t.param('VpcId', VPC_ID, NETWORK.VpcId);
  const subnets = t.param('PrivateDbSubnetIds', subnetList('Private-db subnets (network stack output PrivateDbSubnetIds)'), NETWORK.PrivateDbSubnetIds);

  t.resource('DatabaseKey', {
    Type: 'AWS::KMS::Key',
    DeletionPolicy: 'Retain',
    UpdateReplacePolicy: 'Retain',
    Properties: {
      Description: `${t.prefixed('database')}: encrypts the database, its replicas and snapshots`,
      EnableKeyRotation: true,
      PendingWindowInDays: 30,
      // The account administers the key through IAM; RDS uses it through grants made on its behalf.
      KeyPolicy: {
        Version: '2012-10-17',
        Statement: [{
          Sid: 'AccountAdministersKeyThroughIam',
          Effect: 'Allow',
          Principal: { AWS: sub('arn:${AWS::Partition}:iam::${AWS::AccountId}:root') },
          Action: 'kms:*',
          Resource: '*',
        }],
      },
      Tags: t.tags(),
    },
  });
  t.resource('DatabaseKeyAlias', {
    Type: 'AWS::KMS::Alias',
    Properties: { AliasName: `alias/${t.prefixed('database')}`, TargetKeyId: ref('DatabaseKey') },
  });

  t.resource('DatabaseSubnetGroup', {
    Type: 'AWS::RDS::DBSubnetGroup',
    Properties: { DBSubnetGroupDescription: `${t.prefixed('database')}: private-db subnets`, SubnetIds: subnets, Tags: t.tags() },
  });
  t.resource('DatabaseParameterGroup', {
    Type: 'AWS::RDS::DBParameterGroup',
    Properties: {
      Family: parameterGroupFamily(db.engineVersion),
      Description: `${t.prefixed('database')}: TLS required, slow queries logged`,
      Parameters: { require_secure_transport: '1', slow_query_log: '1', long_query_time: '1', log_output: 'FILE' },
      Tags: t.tags(),
    },
  });
  noEgressSecurityGroup(t, 'DatabaseSecurityGroup', { description: 'MySQL: each service stack adds ingress on 3306 from its own security group, nothing else', vpcId, name: 'database' });

  t.resource('Database', {
    Type: 'AWS::RDS::DBInstance',
    DeletionPolicy: 'Snapshot',
    UpdateReplacePolicy: 'Snapshot',
    Properties: {
      Engine: 'mysql',
      EngineVersion: db.engineVersion,
      DBInstanceClass: db.instanceClass,
      AllocatedStorage: String(db.allocatedStorage),
      ...(db.maxAllocatedStorage ? { MaxAllocatedStorage: db.maxAllocatedStorage } : {}),
      StorageType: 'gp3',
      StorageEncrypted: true,
      KmsKeyId: getAtt('DatabaseKey', 'Arn'),
      MultiAZ: true,
      PubliclyAccessible: false,
      DBSubnetGroupName: ref('DatabaseSubnetGroup'),
      VPCSecurityGroups: [getAtt('DatabaseSecurityGroup', 'GroupId')],
      DBParameterGroupName: ref('DatabaseParameterGroup'),
      MasterUsername: MASTER_USERNAME,
      ManageMasterUserPassword: true,
      BackupRetentionPeriod: db.backupRetentionDays,
      PreferredBackupWindow: '02:00-03:00',
      PreferredMaintenanceWindow: 'sun:03:30-sun:04:30',
      AutoMinorVersionUpgrade: true,
      CopyTagsToSnapshot: true,
      DeletionProtection: db.deletionProtection,
      EnableCloudwatchLogsExports: ['error', 'slowquery'],
      Tags: t.tags({ Name: t.prefixed('database') }),
    },
  });

  // Read replicas hold no data of their own (RDS cannot snapshot a replica on delete), so they are
  // deleted with the stack; the primary keeps the Snapshot policy.
  const replicas = Array.from({ length: db.readReplicas }, (_, i) => `DatabaseReplica${i + 1}`);
  for (const id of replicas) {
    t.resource(id, {
      Type: 'AWS::RDS::DBInstance',
      DeletionPolicy: 'Delete',
      UpdateReplacePolicy: 'Delete',
      Properties: {
        SourceDBInstanceIdentifier: ref('Database'),
        DBInstanceClass: db.instanceClass,
        StorageType: 'gp3',
        PubliclyAccessible: false,
        DBSubnetGroupName: ref('DatabaseSubnetGroup'),
        VPCSecurityGroups: [getAtt('DatabaseSecurityGroup', 'GroupId')],
        DBParameterGroupName: ref('DatabaseParameterGroup'),
        AutoMinorVersionUpgrade: true,
        CopyTagsToSnapshot: true,
        DeletionProtection: false,
        Tags: t.tags({ Name: t.prefixed(id.replace('DatabaseReplica', 'database-replica-')) }),
      },
    });
  }

  // One secret per service user. The attachment makes Secrets Manager add engine, host and port,
  // so the secret has the shape every service reads (and that rotation understands).
  for (const { name: service } of services) {
    const secret = `${pascal(service)}DbSecret`;
    t.resource(secret, {
      Type: 'AWS::SecretsManager::Secret',
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        Description: `${t.prefixed(service)}: MySQL credentials of the ${service} service (user and database ${service})`,
        GenerateSecretString: {
          SecretStringTemplate: JSON.stringify({ username: service, dbname: service }),
          GenerateStringKey: 'password',
          PasswordLength: 32,
          ExcludeCharacters: '"\'@/\\`',
        },
        Tags: t.tags(),
      },
    });
    t.resource(`${secret}Attachment`, {
      Type: 'AWS::SecretsManager::SecretTargetAttachment',
      Properties: { SecretId: ref(secret), TargetId: ref('Database'), TargetType: 'AWS::RDS::DBInstance' },
    });
  }

  t.output(DATABASE.DbInstanceIdentifier, 'The primary DB instance identifier', ref('Database'));
  t.output('DbEndpointAddress', 'The primary endpoint host name', getAtt('Database', 'Endpoint.Address'));
  t.output('DbEndpointPort', 'The primary endpoint port', getAtt('Database', 'Endpoint.Port'));
  t.output('DbMasterUserSecretArn', 'The master user secret, generated and kept by RDS in Secrets Manager', getAtt('Database', 'MasterUserSecret.SecretArn'));
  t.output(DATABASE.DatabaseSecurityGroupId, 'The database security group (service stacks add their ingress to it)', getAtt('DatabaseSecurityGroup', 'GroupId'));
  t.output('DatabaseKeyArn', 'The KMS key that encrypts the database', getAtt('DatabaseKey', 'Arn'));
  if (replicas.length > 0) {
    t.output(DATABASE.ReadReplicaEndpoints, 'Read replica host names, comma-separated (DB_READ_HOSTS)', join(',', replicas.map((r) => getAtt(r, 'Endpoint.Address'))));
    replicas.forEach((r, i) => t.output(replicaIdentifier(i + 1), `Read replica ${i + 1} DB instance identifier`, ref(r)));
  }
  for (const { name: service } of services) {
    t.output(dbSecretArn(service), `The ${service} service's database secret (DB_SECRET=aws:<arn>)`, ref(`${pascal(service)}DbSecret`));
  }
  t.output('ServiceUsersNote', 'What this stack does not do',
    `The MySQL users and databases named in the ${services.length} service secrets are not created by CloudFormation: ` +
    'the playbook creates each one (CREATE USER/DATABASE, GRANT on its own database only, REQUIRE SSL) with the password ' +
    'from its secret, connecting as the master user, and re-syncs the password whenever the secret changes.');
  return t.build();
}

/** RDS refuses a parameter group whose family is not the instance's major version: 8.4.9 -> mysql8.4. */
export function parameterGroupFamily(engineVersion: string): string {
  const major = /^(\d+\.\d+)\./.exec(engineVersion)?.[1];
  if (!major) throw new Error(`database.engineVersion ${engineVersion}: expected major.minor.patch such as 8.4.9`);
  return `mysql${major}`;
}
