// The preflight's AWS calls (playbooks/lib/preflight/online.ts, PreflightAws), read-only, over the
// clients of one AwsClients; a call the caller may not make becomes NotPermittedError naming the
// IAM action, so the check says it was not checked instead of failing.
import { DescribeCertificateCommand } from '@aws-sdk/client-acm';
import { DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DescribeAvailabilityZonesCommand, DescribeInstanceTypeOfferingsCommand, DescribeInstanceTypesCommand, type _InstanceType } from '@aws-sdk/client-ec2';
import { SimulatePrincipalPolicyCommand } from '@aws-sdk/client-iam';
import { GetHostedZoneCommand } from '@aws-sdk/client-route-53';
import { DescribeSecretCommand } from '@aws-sdk/client-secrets-manager';
import { GetAWSDefaultServiceQuotaCommand, GetServiceQuotaCommand } from '@aws-sdk/client-service-quotas';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { GetWebACLCommand } from '@aws-sdk/client-wafv2';
import { NotPermittedError, type PreflightAws } from '../preflight/online.js';
import type { AwsClients } from './clients.js';
import { isStackMissing } from './cloudformation.js';
import { withRetry, type CallOptions } from './retry.js';
import { SdkS3 } from './s3.js';

const DENIED = new Set(['AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation', 'UnauthorizedException', 'AuthorizationError']);
const isDenied = (err: unknown): boolean =>
  err instanceof Error && (DENIED.has(err.name) || (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 403);
const named = (err: unknown, ...names: string[]): boolean => err instanceof Error && names.includes(err.name);

export function sdkPreflightAws(clients: AwsClients, opts: Omit<CallOptions, 'idempotent'> = {}): PreflightAws {
  /** A read, retried on throttling; access denied → NotPermittedError(action). */
  // Fewer attempts than a deploy's calls: a check that cannot get an answer says so (a warning)
  // rather than hold the deploy for a long backoff.
  const retry = { ...clients.retry, attempts: Math.min(clients.retry.attempts, 3) };
  const call = async <T>(action: string, fn: () => Promise<T>): Promise<T> => {
    try {
      return await withRetry(action, retry, { ...opts, idempotent: true }, fn);
    } catch (err) {
      if (isDenied(err)) throw new NotPermittedError(action);
      throw err;
    }
  };
  const us = clients.inRegion('us-east-1');
  const clientsFor = (region: string | undefined) => (region ? clients.inRegion(region) : clients);
  return {
    region: clients.region,
    async caller() {
      const out = await call('sts:GetCallerIdentity', () => clients.sts.send(new GetCallerIdentityCommand({})));
      return { account: out.Account ?? '', arn: out.Arn ?? '' };
    },
    async quota(serviceCode, quotaCode, region) {
      const sq = clientsFor(region).serviceQuotas;
      try {
        const out = await call('servicequotas:GetServiceQuota', () => sq.send(new GetServiceQuotaCommand({ ServiceCode: serviceCode, QuotaCode: quotaCode })));
        return out.Quota?.Value;
      } catch (err) {
        if (!named(err, 'NoSuchResourceException')) throw err;
      }
      try {
        const out = await call('servicequotas:GetAWSDefaultServiceQuota', () => sq.send(new GetAWSDefaultServiceQuotaCommand({ ServiceCode: serviceCode, QuotaCode: quotaCode })));
        return out.Quota?.Value;
      } catch (err) {
        if (named(err, 'NoSuchResourceException')) return undefined;
        throw err;
      }
    },
    async vcpus(types) {
      const out = await call('ec2:DescribeInstanceTypes', () => clients.ec2.send(new DescribeInstanceTypesCommand({ InstanceTypes: [...types] as _InstanceType[] })));
      return Object.fromEntries((out.InstanceTypes ?? []).map((t) => [t.InstanceType ?? '', t.VCpuInfo?.DefaultVCpus ?? 0]));
    },
    async availabilityZones() {
      const out = await call('ec2:DescribeAvailabilityZones', () =>
        clients.ec2.send(new DescribeAvailabilityZonesCommand({ Filters: [{ Name: 'state', Values: ['available'] }, { Name: 'opt-in-status', Values: ['opt-in-not-required'] }] })));
      return (out.AvailabilityZones ?? []).map((z) => z.ZoneName ?? '').filter(Boolean).sort();
    },
    async offeredTypes(zone, types) {
      const out = await call('ec2:DescribeInstanceTypeOfferings', () =>
        clients.ec2.send(new DescribeInstanceTypeOfferingsCommand({
          LocationType: 'availability-zone',
          Filters: [{ Name: 'location', Values: [zone] }, { Name: 'instance-type', Values: [...types] }],
        })));
      return (out.InstanceTypeOfferings ?? []).map((o) => o.InstanceType ?? '');
    },
    async certificate(arn) {
      const acm = clients.inRegion(arn.split(':')[3] || clients.region).acm;
      try {
        const out = await call('acm:DescribeCertificate', () => acm.send(new DescribeCertificateCommand({ CertificateArn: arn })));
        const c = out.Certificate;
        return { status: c?.Status ?? 'UNKNOWN', names: [...new Set([c?.DomainName ?? '', ...(c?.SubjectAlternativeNames ?? [])])].filter(Boolean) };
      } catch (err) {
        if (named(err, 'ResourceNotFoundException', 'InvalidArnException')) return undefined;
        throw err;
      }
    },
    async hostedZone(id) {
      try {
        const out = await call('route53:GetHostedZone', () => clients.route53.send(new GetHostedZoneCommand({ Id: id })));
        return out.HostedZone ? { name: out.HostedZone.Name ?? '', private: out.HostedZone.Config?.PrivateZone === true } : undefined;
      } catch (err) {
        if (named(err, 'NoSuchHostedZone')) return undefined;
        throw err;
      }
    },
    async webAclExists(arn) {
      const m = /:global\/webacl\/([^/]+)\/([^/]+)$/.exec(arn);
      if (!m) return false;
      try {
        await call('wafv2:GetWebACL', () => us.wafv2.send(new GetWebACLCommand({ Name: m[1], Id: m[2], Scope: 'CLOUDFRONT' })));
        return true;
      } catch (err) {
        if (named(err, 'WAFNonexistentItemException')) return false;
        throw err;
      }
    },
    bucketState: (bucket) => new SdkS3(clients.s3, clients.retry, opts).bucketState(bucket),
    async stackStatus(stackName) {
      try {
        const out = await call('cloudformation:DescribeStacks', () => clients.cloudformation.send(new DescribeStacksCommand({ StackName: stackName })));
        return out.Stacks?.[0]?.StackStatus;
      } catch (err) {
        if (isStackMissing(err)) return undefined;
        throw err;
      }
    },
    async secretState(name) {
      try {
        const out = await call('secretsmanager:DescribeSecret', () => clients.secretsManager.send(new DescribeSecretCommand({ SecretId: name })));
        return out.DeletedDate ? 'scheduled-for-deletion' : 'active';
      } catch (err) {
        if (named(err, 'ResourceNotFoundException')) return 'missing';
        throw err;
      }
    },
    async deniedActions(principalArn, actions) {
      const denied: string[] = [];
      let marker: string | undefined;
      do {
        const out = await call('iam:SimulatePrincipalPolicy', () =>
          clients.iam.send(new SimulatePrincipalPolicyCommand({ PolicySourceArn: principalArn, ActionNames: [...actions], Marker: marker })));
        for (const e of out.EvaluationResults ?? []) if (e.EvalDecision !== 'allowed' && e.EvalActionName) denied.push(e.EvalActionName);
        marker = out.IsTruncated ? out.Marker : undefined;
      } while (marker);
      return denied;
    },
  };
}
