// The secret origin header: CloudFront adds it to every request to the load balancer, and the load
// balancer forwards only requests that carry it. Its value lives in Secrets Manager (the shared
// secret `origin-header`, `{value}`) and reaches both stacks as a dynamic reference by version id,
// so it never appears in a template and a new version updates the resources that use it.
import type { StackBuilder } from './stack.js';
import { secretArn } from './stack.js';
import { ifCondition, NO_VALUE, sub, type Expr, type Parameter } from './template.js';

export const ORIGIN_HEADER_NAME = 'X-Origin-Verify';
/** The shared secret holding the value (environment/shared-secrets.ts). */
export const ORIGIN_HEADER_SECRET = 'origin-header';

const versionId = (description: string, optional: boolean): Parameter => ({
  Type: 'String',
  Description: description,
  // Secrets Manager version ids are the request tokens they were made with (UUIDs here).
  AllowedPattern: optional ? '^([A-Za-z0-9-]{32,64})?$' : '^[A-Za-z0-9-]{32,64}$',
  ConstraintDescription: optional ? 'a Secrets Manager version id, or empty' : 'a Secrets Manager version id',
});

/** `{{resolve:secretsmanager:<arn>:SecretString:value::<version>}}`, filled in by CloudFormation at deploy time. */
const resolveVersion = (versionParam: string): Expr =>
  sub(`{{resolve:secretsmanager:\${OriginHeaderSecretArn}:SecretString:value::\${${versionParam}}}}`);

/** The value CloudFront sends: the secret's current version. */
export function originHeaderToSend(t: StackBuilder): Expr {
  t.param('OriginHeaderSecretArn', secretArn('Secrets Manager secret with the origin header value {value} (created by the playbook)'), { from: 'secret', secret: ORIGIN_HEADER_SECRET });
  t.param('OriginHeaderVersionId', versionId('The version of the origin header secret CloudFront sends (its AWSCURRENT version)', false), {
    from: 'secret-version', secret: ORIGIN_HEADER_SECRET, stage: 'current',
  });
  return resolveVersion('OriginHeaderVersionId');
}

/**
 * The values the load balancer accepts: the current version's, and during a rotation also the
 * pending version's (the one CloudFront switches to next), so no request fails while CloudFront's
 * edges change over.
 */
export function originHeadersAccepted(t: StackBuilder): Expr[] {
  const current = originHeaderToSend(t);
  t.param('OriginHeaderPendingVersionId', versionId('The origin header version a rotation brings in (AWSPENDING), accepted beside the current one; empty when none', true), {
    from: 'secret-version', secret: ORIGIN_HEADER_SECRET, stage: 'pending',
  });
  const rotating = t.condition('OriginHeaderRotating', { 'Fn::Not': [{ 'Fn::Equals': [{ Ref: 'OriginHeaderPendingVersionId' }, ''] }] });
  return [current, ifCondition(rotating, resolveVersion('OriginHeaderPendingVersionId'), NO_VALUE)];
}
