// Every AWS client is created here and nowhere else: one region, AWS_ENDPOINT_URL honoured by all
// of them (LocalStack, a test fake), SDK retries off because ./retry.ts decides what to repeat,
// and one credentials check that turns "no provider found" into a line saying what to do.
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { ACMClient } from '@aws-sdk/client-acm';
import { CloudFrontClient } from '@aws-sdk/client-cloudfront';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ElastiCacheClient } from '@aws-sdk/client-elasticache';
import { IAMClient } from '@aws-sdk/client-iam';
import { ServiceQuotasClient } from '@aws-sdk/client-service-quotas';
import { WAFV2Client } from '@aws-sdk/client-wafv2';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { Route53Client } from '@aws-sdk/client-route-53';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SSMClient } from '@aws-sdk/client-ssm';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { CredentialsMissingError } from '../errors.js';
import { DEFAULT_RETRY, type RetryPolicy, withRetry } from './retry.js';

export interface AwsSettings {
  region: string;
  /** Defaults to AWS_ENDPOINT_URL when set. */
  endpoint?: string | undefined;
  retry?: Partial<RetryPolicy>;
  /** How often waits poll AWS (stack events, change sets, drift, target health). */
  pollMs?: number;
}

export function endpointFromEnv(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const url = env.AWS_ENDPOINT_URL?.trim();
  return url ? url : undefined;
}

// The SDK warns on every run that its releases after early 2027 need Node 22; the lockfile pins
// today's releases and the project runs on Node 20, so the warning says nothing a user can act on.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export class AwsClients {
  readonly region: string;
  readonly endpoint: string | undefined;
  readonly retry: RetryPolicy;
  readonly pollMs: number;
  private readonly made = new Map<string, unknown>();

  constructor(settings: AwsSettings) {
    this.region = settings.region;
    this.endpoint = settings.endpoint ?? endpointFromEnv();
    this.retry = { ...DEFAULT_RETRY, ...settings.retry };
    this.pollMs = settings.pollMs ?? 5000;
  }

  private config(): { region: string; maxAttempts: number; endpoint?: string } {
    return { region: this.region, maxAttempts: 1, ...(this.endpoint ? { endpoint: this.endpoint } : {}) };
  }

  private once<T>(key: string, make: () => T): T {
    if (!this.made.has(key)) this.made.set(key, make());
    return this.made.get(key) as T;
  }

  get cloudformation(): CloudFormationClient {
    return this.once('cloudformation', () => new CloudFormationClient(this.config()));
  }

  get s3(): S3Client {
    // Endpoints other than AWS (LocalStack, fakes) address buckets by path, not by host name.
    return this.once('s3', () => new S3Client({ ...this.config(), forcePathStyle: Boolean(this.endpoint) }));
  }

  get secretsManager(): SecretsManagerClient {
    return this.once('secretsManager', () => new SecretsManagerClient(this.config()));
  }

  get elbv2(): ElasticLoadBalancingV2Client {
    return this.once('elbv2', () => new ElasticLoadBalancingV2Client(this.config()));
  }

  get cloudfront(): CloudFrontClient {
    return this.once('cloudfront', () => new CloudFrontClient(this.config()));
  }

  get ec2(): EC2Client {
    return this.once('ec2', () => new EC2Client(this.config()));
  }

  get autoScaling(): AutoScalingClient {
    return this.once('autoScaling', () => new AutoScalingClient(this.config()));
  }

  get serviceQuotas(): ServiceQuotasClient {
    return this.once('serviceQuotas', () => new ServiceQuotasClient(this.config()));
  }

  get acm(): ACMClient {
    return this.once('acm', () => new ACMClient(this.config()));
  }

  get wafv2(): WAFV2Client {
    return this.once('wafv2', () => new WAFV2Client(this.config()));
  }

  get route53(): Route53Client {
    return this.once('route53', () => new Route53Client(this.config()));
  }

  get iam(): IAMClient {
    return this.once('iam', () => new IAMClient(this.config()));
  }

  get lambda(): LambdaClient {
    // RequestResponse waits for the bootstrap (minutes with seeds): the SDK's handler has no request timeout by default.
    return this.once('lambda', () => new LambdaClient(this.config()));
  }

  get elasticache(): ElastiCacheClient {
    return this.once('elasticache', () => new ElastiCacheClient(this.config()));
  }

  get ssm(): SSMClient {
    return this.once('ssm', () => new SSMClient(this.config()));
  }

  /** The same settings in another region (CloudFront's certificates, web ACLs and quotas live in us-east-1). */
  inRegion(region: string): AwsClients {
    return region === this.region ? this : new AwsClients({ region, endpoint: this.endpoint, retry: this.retry, pollMs: this.pollMs });
  }

  get sts(): STSClient {
    return this.once('sts', () => new STSClient(this.config()));
  }

  /** Every client (tests check their endpoints). */
  all(): Array<{ config: { endpoint?: unknown } }> {
    return [this.cloudformation, this.s3, this.secretsManager, this.elbv2, this.cloudfront, this.ec2, this.autoScaling, this.lambda, this.elasticache, this.ssm, this.sts];
  }

  /** The account the credentials belong to (names the artifacts bucket); also proves they work. */
  async accountId(): Promise<string> {
    const out = await withRetry('GetCallerIdentity', this.retry, { idempotent: true }, () => this.sts.send(new GetCallerIdentityCommand({})));
    if (!out.Account) throw new Error('STS did not say which account these credentials belong to');
    return out.Account;
  }

  /**
   * Resolves credentials through the SDK's provider chain (env vars, AWS_PROFILE, SSO, web
   * identity, instance roles) without calling AWS; none found → CredentialsMissingError.
   */
  async checkCredentials(): Promise<void> {
    try {
      const creds = await this.cloudformation.config.credentials();
      if (!creds?.accessKeyId) throw new Error('empty credentials');
    } catch {
      throw new CredentialsMissingError();
    }
  }
}
