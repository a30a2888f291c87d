// The AWS services a play talks to, as narrow interfaces over the clients of one AwsClients.
// Retries are told to the -v output; Ctrl-C aborts backoff waits.
import type { AwsClients } from '../aws/clients.js';
import { type CloudFormationApi, SdkCloudFormation } from '../aws/cloudformation.js';
import { type CloudFrontApi, SdkCloudFront } from '../aws/cloudfront.js';
import { type Ec2Api, SdkEc2 } from '../aws/ec2.js';
import { type ElastiCacheApi, SdkElastiCache } from '../aws/elasticache.js';
import { type Elbv2Api, SdkElbv2 } from '../aws/elbv2.js';
import { type LambdaApi, SdkLambda } from '../aws/lambda.js';
import { type S3Api, SdkS3 } from '../aws/s3.js';
import { type SecretsApi, SdkSecrets } from '../aws/secrets.js';
import { type SsmApi, SdkSsm } from '../aws/ssm.js';
import type { Play } from '../runner.js';

export interface AwsApis {
  region: string;
  cfn: CloudFormationApi;
  s3: S3Api;
  secrets: SecretsApi;
  cloudfront: CloudFrontApi;
  elbv2: Elbv2Api;
  ec2: Ec2Api;
  lambda: LambdaApi;
  elasticache: ElastiCacheApi;
  ssm: SsmApi;
  pollMs: number;
  checkCredentials(): Promise<void>;
  accountId(): Promise<string>;
}

export function awsApis(clients: AwsClients, play: Play): AwsApis {
  const opts = {
    signal: play.signal,
    onRetry: (what: string, attempt: number, delayMs: number, err: Error) => play.output.detail('aws', `${what}: ${err.name}, retry ${attempt} in ${delayMs}ms`),
  };
  return {
    region: clients.region,
    cfn: new SdkCloudFormation(clients.cloudformation, clients.retry, opts),
    s3: new SdkS3(clients.s3, clients.retry, opts),
    secrets: new SdkSecrets(clients.secretsManager, clients.retry, opts),
    cloudfront: new SdkCloudFront(clients.cloudfront, clients.retry, opts),
    elbv2: new SdkElbv2(clients.elbv2, clients.retry, opts),
    ec2: new SdkEc2(clients.ec2, clients.retry, opts),
    lambda: new SdkLambda(clients.lambda, clients.retry, opts),
    elasticache: new SdkElastiCache(clients.elasticache, clients.retry, opts),
    ssm: new SdkSsm(clients.ssm, clients.retry, opts),
    pollMs: clients.pollMs,
    checkCredentials: () => clients.checkCredentials(),
    accountId: () => clients.accountId(),
  };
}
