// Certificates and the web ACL, from their ARNs: CloudFront only takes certificates from
// us-east-1 and web ACLs of CLOUDFRONT scope (global); a load balancer only takes certificates
// from its own region. CloudFormation finds out after minutes of creating the stacks before it.
import { regionOfArn, type Environment } from '../../../environment/index.js';
import { reporter, type CheckReport } from './finding.js';

const GLOBAL_WEB_ACL = /^arn:aws[a-z-]*:wafv2:us-east-1:\d{12}:global\/webacl\//;

export function checkCertificates(inv: Environment): CheckReport {
  const r = reporter('certificates');
  const d = inv.domain;
  if (!d) {
    r.summary('no domain: CloudFront serves its own certificate, the load balancer plain HTTP');
    return r.report;
  }
  if (d.certificateArn) {
    const region = regionOfArn(d.certificateArn);
    if (region !== 'us-east-1') {
      r.error(
        'domain.certificateArn',
        `the CloudFront certificate is in ${region} (${d.certificateArn}); CloudFront only uses certificates from us-east-1`,
        `request or import a certificate for ${d.aliases.join(', ') || 'the aliases'} in us-east-1 (ACM, N. Virginia) and set domain.certificateArn to its ARN`,
      );
    } else r.summary(`CloudFront certificate in us-east-1 for ${d.aliases.join(', ') || 'no aliases'}`);
  }
  if (d.albCertificateArn) {
    const region = regionOfArn(d.albCertificateArn);
    if (region !== inv.region) {
      r.error(
        'domain.albCertificateArn',
        `the load balancer certificate is in ${region} (${d.albCertificateArn}); a load balancer in ${inv.region} only uses certificates from ${inv.region}`,
        `request or import a certificate for ${d.apiHostname ?? 'the API host name'} in ${inv.region} and set domain.albCertificateArn to its ARN`,
      );
    } else r.summary(`load balancer certificate in ${inv.region} for ${d.apiHostname ?? '(no apiHostname)'}`);
  }
  if (d.webAclArn) {
    if (!GLOBAL_WEB_ACL.test(d.webAclArn)) {
      r.error(
        'domain.webAclArn',
        `${d.webAclArn} is not a web ACL of CLOUDFRONT scope (those are arn:aws:wafv2:us-east-1:<account>:global/webacl/…)`,
        'create the web ACL with scope CLOUDFRONT in us-east-1 (a REGIONAL one cannot guard a distribution) and set domain.webAclArn to its ARN',
      );
    } else r.summary('web ACL of CLOUDFRONT scope');
  }
  return r.report;
}
