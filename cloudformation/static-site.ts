// static-site: the shop's static assets in a private, encrypted, versioned S3 bucket served by
// CloudFront through Origin Access Control; HTTPS only, HTTP/2 and 3, compression. /api/* goes to
// the load balancer uncached with every viewer header (Authorization included) passed on, so an
// authenticated response is never served from cache, and with the secret origin header the load
// balancer requires (lib/origin-header.ts). The paths services declare public (catalog's product
// pages, listings, categories) come first, cached for what their Cache-Control allows
// (lib/edge-cache.ts). Aliases, certificate and WAF are optional; with domain.hostedZoneId the
// aliases get their alias records here.
import { SHOP_SERVICES, type Environment, type ServiceCatalogue } from '../environment/index.js';
import {
  MANAGED_ALL_VIEWER_EXCEPT_HOST_HEADER, MANAGED_CACHING_DISABLED, publicReadCachePolicy, publicReadPaths, UNCACHED_ERRORS,
} from './lib/edge-cache.js';
import { StackBuilder, stackOutputs, type RenderedStack } from './lib/stack.js';
import { ORIGIN_HEADER_NAME, originHeaderToSend } from './lib/origin-header.js';
import { LOAD_BALANCER } from './load-balancer.js';
import { getAtt, ref, sub, type Expr, type Value } from './lib/template.js';

/** The outputs the deploy play reads: where to upload assets, what to invalidate, the shop's URL. */
export const STATIC_SITE = stackOutputs('static-site', ['SiteUrl', 'AssetsBucketName', 'DistributionId']);

/** The hosted zone every CloudFront alias target lives in (fixed by AWS). */
export const CLOUDFRONT_HOSTED_ZONE_ID = 'Z2FDTNDATAQYW2';

export function renderStaticSite(inv: Environment, services: ServiceCatalogue = SHOP_SERVICES): RenderedStack {
  const domain = inv.domain;
  const publicReads = publicReadPaths(inv, services);
  const t = new StackBuilder(inv, STATIC_SITE.SiteUrl.stack,
    'Static assets in a private S3 bucket behind CloudFront (Origin Access Control, HTTPS only, HTTP/2 and 3, compression); ' +
    `${publicReads.length ? `${publicReads.map((p) => p.pathPattern).join(', ')} cached as their Cache-Control allows, ` : ''}` +
    `/api/* forwarded uncached to the load balancer${domain?.aliases.length ? ` on ${domain.aliases.join(', ')}` : ''}.`);

  // The API origin: the name on the load balancer's certificate when there is one (CloudFront
  // checks it), otherwise the load balancer's own DNS name over HTTP.
  const apiOverHttps = Boolean(domain?.albCertificateArn && domain.apiHostname);
  const apiOrigin: Expr = apiOverHttps
    ? domain!.apiHostname!
    : t.param('LoadBalancerDnsName', {
        Type: 'String',
        Description: 'The load balancer DNS name (load-balancer stack output LoadBalancerDnsName)',
        AllowedPattern: '^[A-Za-z0-9.-]+\\.elb\\.amazonaws\\.com$',
        ConstraintDescription: 'an ELB DNS name',
      }, LOAD_BALANCER.LoadBalancerDnsName);
  const originHeader = originHeaderToSend(t);

  t.resource('AssetsBucket', {
    Type: 'AWS::S3::Bucket',
    DeletionPolicy: 'Retain',
    UpdateReplacePolicy: 'Retain',
    Properties: {
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
      VersioningConfiguration: { Status: 'Enabled' },
      LifecycleConfiguration: {
        Rules: [
          { Id: 'expire-replaced-assets', Status: 'Enabled', NoncurrentVersionExpiration: { NoncurrentDays: 30 } },
          { Id: 'abort-stale-uploads', Status: 'Enabled', AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 } },
        ],
      },
      Tags: t.tags(),
    },
  });
  t.resource('AssetsOriginAccessControl', {
    Type: 'AWS::CloudFront::OriginAccessControl',
    Properties: {
      OriginAccessControlConfig: {
        Name: t.prefixed('assets'),
        Description: 'CloudFront signs every request to the assets bucket',
        OriginAccessControlOriginType: 's3',
        SigningBehavior: 'always',
        SigningProtocol: 'sigv4',
      },
    },
  });
  t.resource('AssetsBucketPolicy', {
    Type: 'AWS::S3::BucketPolicy',
    Properties: {
      Bucket: ref('AssetsBucket'),
      PolicyDocument: {
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'CloudFrontReadsThroughOriginAccessControl',
            Effect: 'Allow',
            Principal: { Service: 'cloudfront.amazonaws.com' },
            Action: 's3:GetObject',
            Resource: sub('${AssetsBucket.Arn}/*'),
            Condition: { StringEquals: { 'AWS:SourceArn': sub('arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/${Distribution}') } },
          },
          {
            Sid: 'TlsOnly',
            Effect: 'Deny',
            Principal: '*',
            Action: 's3:*',
            Resource: [getAtt('AssetsBucket', 'Arn'), sub('${AssetsBucket.Arn}/*')],
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          },
        ],
      },
    },
  });

  t.resource('StaticCachePolicy', {
    Type: 'AWS::CloudFront::CachePolicy',
    Properties: {
      CachePolicyConfig: {
        Name: t.prefixed('static'),
        Comment: 'Static assets: cached a day by default, a year at most; compressed variants cached apart',
        MinTTL: 0,
        DefaultTTL: 86_400,
        MaxTTL: 31_536_000,
        ParametersInCacheKeyAndForwardedToOrigin: {
          EnableAcceptEncodingGzip: true,
          EnableAcceptEncodingBrotli: true,
          CookiesConfig: { CookieBehavior: 'none' },
          HeadersConfig: { HeaderBehavior: 'none' },
          QueryStringsConfig: { QueryStringBehavior: 'none' },
        },
      },
    },
  });
  t.resource('SecurityHeadersPolicy', {
    Type: 'AWS::CloudFront::ResponseHeadersPolicy',
    Properties: {
      ResponseHeadersPolicyConfig: {
        Name: t.prefixed('security-headers'),
        Comment: 'HSTS, no sniffing, no framing, strict referrer',
        SecurityHeadersConfig: {
          StrictTransportSecurity: { AccessControlMaxAgeSec: 31_536_000, IncludeSubdomains: true, Override: true },
          ContentTypeOptions: { Override: true },
          FrameOptions: { FrameOption: 'DENY', Override: true },
          ReferrerPolicy: { ReferrerPolicy: 'strict-origin-when-cross-origin', Override: true },
        },
      },
    },
  });

  for (const p of publicReads) {
    if (p === publicReads.find((q) => q.cachePolicy === p.cachePolicy)) t.resource(p.cachePolicy, publicReadCachePolicy(t.prefixed(p.cachePolicyName), p.query));
  }
  // The API origin's behaviours: the same everywhere but for what is cached.
  const apiBehaviour = (pathPattern: string, cachePolicy: Expr): Value => ({
    PathPattern: pathPattern,
    TargetOriginId: 'api',
    // Never a redirect for the API: a redirected POST would lose its body.
    ViewerProtocolPolicy: 'https-only',
    Compress: true,
    // Writes share these paths (an admin's PATCH of a product): they pass through, never cached.
    AllowedMethods: ['GET', 'HEAD', 'OPTIONS', 'PUT', 'PATCH', 'POST', 'DELETE'],
    CachedMethods: ['GET', 'HEAD'],
    CachePolicyId: cachePolicy,
    OriginRequestPolicyId: MANAGED_ALL_VIEWER_EXCEPT_HOST_HEADER,
    ResponseHeadersPolicyId: ref('SecurityHeadersPolicy'),
  });

  const viewerCertificate: Value = domain?.certificateArn
    ? { AcmCertificateArn: domain.certificateArn, SslSupportMethod: 'sni-only', MinimumProtocolVersion: 'TLSv1.2_2021' }
    : { CloudFrontDefaultCertificate: true };
  t.resource('Distribution', {
    Type: 'AWS::CloudFront::Distribution',
    Properties: {
      DistributionConfig: {
        Enabled: true,
        Comment: `${t.prefixed('shop')}: assets and /api/*`,
        HttpVersion: 'http2and3',
        IPV6Enabled: true,
        PriceClass: inv.staticSite.priceClass,
        DefaultRootObject: 'index.html',
        ...(domain?.aliases.length ? { Aliases: [...domain.aliases] } : {}),
        ViewerCertificate: viewerCertificate,
        ...(domain?.webAclArn ? { WebACLId: domain.webAclArn } : {}),
        Origins: [
          {
            Id: 'assets',
            DomainName: getAtt('AssetsBucket', 'RegionalDomainName'),
            OriginAccessControlId: getAtt('AssetsOriginAccessControl', 'Id'),
            S3OriginConfig: { OriginAccessIdentity: '' },
          },
          {
            Id: 'api',
            DomainName: apiOrigin,
            OriginCustomHeaders: [{ HeaderName: ORIGIN_HEADER_NAME, HeaderValue: originHeader }],
            CustomOriginConfig: {
              OriginProtocolPolicy: apiOverHttps ? 'https-only' : 'http-only',
              HTTPPort: 80,
              HTTPSPort: 443,
              OriginSSLProtocols: ['TLSv1.2'],
              OriginReadTimeout: 30,
              OriginKeepaliveTimeout: 5,
            },
          },
        ],
        DefaultCacheBehavior: {
          TargetOriginId: 'assets',
          ViewerProtocolPolicy: 'redirect-to-https',
          Compress: true,
          AllowedMethods: ['GET', 'HEAD', 'OPTIONS'],
          CachedMethods: ['GET', 'HEAD'],
          CachePolicyId: ref('StaticCachePolicy'),
          ResponseHeadersPolicyId: ref('SecurityHeadersPolicy'),
        },
        // First match wins: the public reads before /api/*, which caches nothing.
        CacheBehaviors: [
          ...publicReads.map((p) => apiBehaviour(p.pathPattern, ref(p.cachePolicy))),
          apiBehaviour('/api/*', MANAGED_CACHING_DISABLED),
        ],
        ...(publicReads.length
          ? { CustomErrorResponses: UNCACHED_ERRORS.map((code) => ({ ErrorCode: code, ErrorCachingMinTTL: 0 })) }
          : {}),
      },
      Tags: t.tags(),
    },
  });

  if (domain?.hostedZoneId) {
    domain.aliases.forEach((alias, i) => {
      for (const type of ['A', 'AAAA'] as const) {
        t.resource(`Alias${i + 1}${type === 'A' ? 'Ipv4' : 'Ipv6'}Record`, {
          Type: 'AWS::Route53::RecordSet',
          Properties: {
            HostedZoneId: domain.hostedZoneId!,
            Name: alias,
            Type: type,
            AliasTarget: { DNSName: getAtt('Distribution', 'DomainName'), HostedZoneId: CLOUDFRONT_HOSTED_ZONE_ID, EvaluateTargetHealth: false },
          },
        });
      }
    });
  }

  const siteHost = domain?.aliases[0];
  t.output(STATIC_SITE.DistributionId, 'The CloudFront distribution id (for invalidations)', ref('Distribution'));
  t.output('DistributionDomainName', 'The CloudFront domain name (alias records point here)', getAtt('Distribution', 'DomainName'));
  t.output(STATIC_SITE.AssetsBucketName, 'Where the static assets are uploaded', ref('AssetsBucket'));
  t.output(STATIC_SITE.SiteUrl, 'The shop URL', siteHost ? `https://${siteHost}` : sub('https://${Distribution.DomainName}'));
  return t.build();
}
