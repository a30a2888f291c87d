// destroy with an aws inventory: the environment's stacks deleted in the reverse of the deploy
// order (the stacks of one wave together), after a review of what goes and what is kept, and with
// the same approval as deploy (--yes, or a prompt on a terminal; --check only reviews).
//
// What is kept is what the stacks' DeletionPolicy keeps (read from the templates CloudFormation
// holds, which it acts on): Retain resources stay as they are and are named with their physical
// ids, Snapshot resources leave a final snapshot. What deploy made outside the stacks goes too,
// as Ansible's habit has it (destroy undoes deploy): the shared secrets (deleted at once, no
// recovery window, so a new deploy can create them again by name; their values are generated, a
// new deploy generates new ones) and the stack templates deploy uploaded. The artifacts bucket and
// its artifacts stay: every environment of the account and region shares them (content-addressed).
//
// An inventory with database.deletionProtection: true is refused unless --allow-destroy names its
// environment; with it, a stack whose resources have deletion protection on (RDS, the load
// balancer) is first updated with it off, through a reviewed change set, then deleted.
import { deployWaves, parseTemplateBody, type RenderedStack, type Template } from '../../../cloudformation/index.js';
import { artifactBucketName, resourcePrefix, SHARED_SECRETS, sharedSecretId, type Environment } from '../../../environment/index.js';
import type { StackResource } from '../aws/cloudformation.js';
import { RefusedError } from '../errors.js';
import { credentialsTask } from '../modules/aws-credentials.js';
import { ReviewLog, deployStack, templateKeyPrefix } from '../modules/cloudformation-stack.js';
import { deleteStack } from '../modules/delete-stack.js';
import { type Play, type TaskSpec, changed, ok, skipped } from '../runner.js';
import type { StackSource } from '../stack-source.js';
import type { AwsApis } from './aws-apis.js';

export interface AwsDestroyConfig {
  environment: Environment;
  /** The inventory file as given (for messages). */
  inventoryFile: string;
  stacks: StackSource;
  apis: AwsApis;
}

/** A resource the deletion leaves behind (DeletionPolicy Retain) or snapshots (Snapshot). */
interface KeptResource {
  stackName: string;
  logicalId: string;
  type: string;
  physicalId: string;
  policy: 'Retain' | 'Snapshot';
}

/** What a stack of the environment looks like before the teardown. */
interface StackFound {
  entry: RenderedStack;
  status: string;
  resources: StackResource[];
  kept: KeptResource[];
  /** Logical ids of resources whose deletion protection is on (in the template CloudFormation holds). */
  protectedIds: string[];
}

type TemplateLike = Record<string, unknown>;

const resourcesOf = (template: TemplateLike | undefined): Record<string, { Type?: string; DeletionPolicy?: string; Properties?: Record<string, unknown> }> =>
  (template?.Resources ?? {}) as Record<string, { Type?: string; DeletionPolicy?: string; Properties?: Record<string, unknown> }>;

const isOn = (v: unknown): boolean => v === true || v === 'true';

/** Resources whose own deletion protection stops CloudFormation from deleting them. */
export function protectedResources(template: TemplateLike | undefined): string[] {
  return Object.entries(resourcesOf(template)).flatMap(([id, r]) => {
    const p = r.Properties ?? {};
    const attrs = Array.isArray(p.LoadBalancerAttributes) ? (p.LoadBalancerAttributes as Array<{ Key?: unknown; Value?: unknown }>) : [];
    return isOn(p.DeletionProtection) || attrs.some((a) => a.Key === 'deletion_protection.enabled' && isOn(a.Value)) ? [id] : [];
  });
}

/** The same template with every deletion protection off (RDS DeletionProtection, ELBv2's attribute). */
export function withoutDeletionProtection(template: Template): Template {
  const copy = structuredClone(template);
  for (const r of Object.values(copy.Resources)) {
    const p = r.Properties;
    if (!p) continue;
    if (isOn(p.DeletionProtection)) p.DeletionProtection = false;
    if (Array.isArray(p.LoadBalancerAttributes)) {
      for (const a of p.LoadBalancerAttributes as Array<{ Key?: unknown; Value?: unknown }>) if (a.Key === 'deletion_protection.enabled') a.Value = 'false';
    }
  }
  return copy;
}

const KEPT_POLICIES = new Set(['Retain', 'RetainExceptOnCreate', 'Snapshot']);

export async function awsDestroy(play: Play, cfg: AwsDestroyConfig): Promise<void> {
  const o = play.options;
  const inv = cfg.environment;
  const { apis } = cfg;
  const prefix = `${resourcePrefix(inv)}-`;
  const allowed = o.allowDestroy === inv.environment;
  let bucket = '';
  let stacks: RenderedStack[] = [];
  let waves: RenderedStack[][] = [];
  const found = new Map<string, StackFound>();
  const secretIds = Object.values(SHARED_SECRETS).map((s) => sharedSecretId(inv, s.name));
  let secretsThere: string[] = [];
  let templateKeys: string[] = [];

  await play.task({
    name: 'deletion protection',
    tags: ['always'],
    run: (ctx) => {
      if (o.limit !== undefined) throw new RefusedError('destroy removes the whole environment; --limit does not apply to it: nothing deleted');
      if (o.allowDestroy !== undefined && !allowed) {
        throw new RefusedError(`--allow-destroy ${o.allowDestroy} does not name this inventory's environment (${inv.environment}): nothing deleted`);
      }
      if (!inv.database.deletionProtection) return Promise.resolve(ok('the inventory does not protect this environment (database.deletionProtection: false)'));
      if (allowed) return Promise.resolve(ok(`database.deletionProtection is on; --allow-destroy ${inv.environment} allows the teardown`));
      // A review deletes nothing, so it needs no flag; the teardown itself does.
      if (ctx.check) return Promise.resolve(ok(`database.deletionProtection is on: --check only reviews; the teardown needs --allow-destroy ${inv.environment}`));
      throw new RefusedError(
        `${cfg.inventoryFile} sets database.deletionProtection: true, so ${inv.environment} is only destroyed when the command names it: ` +
          `review with --check, then re-run with --allow-destroy ${inv.environment}. Nothing was deleted`,
      );
    },
  });

  await play.task(credentialsTask(apis, (account) => (bucket = artifactBucketName(inv, account))));

  await play.task({
    name: 'render templates',
    tags: ['always', 'render'],
    run: () => {
      stacks = cfg.stacks.render();
      // Only this environment's stacks are ever touched: their names carry its prefix.
      const foreign = stacks.filter((s) => !s.stackName.startsWith(prefix));
      if (foreign.length) throw new RefusedError(`${foreign.map((s) => s.stackName).join(', ')}: not named ${prefix}*, so not this environment's; nothing deleted`);
      waves = deployWaves(stacks).reverse();
      return Promise.resolve(ok(`${stacks.length} stacks; teardown order: ${waves.map((w) => w.map((s) => s.name).join(', ')).join(' | ')}`));
    },
  });

  await play.task({
    name: 'review',
    tags: ['always'],
    run: async (ctx) => {
      await Promise.all(
        stacks.map(async (entry) => {
          const stack = await apis.cfn.describeStack(entry.stackName);
          if (!stack || stack.status === 'DELETE_COMPLETE') return;
          const [resources, body] = await Promise.all([apis.cfn.stackResources(stack.id), stack.status === 'REVIEW_IN_PROGRESS' ? undefined : apis.cfn.getTemplate(stack.id)]);
          const template = parseTemplateBody(body);
          const physical = new Map(resources.map((r) => [r.logicalId, r]));
          const kept = Object.entries(resourcesOf(template)).flatMap(([logicalId, r]): KeptResource[] => {
            const made = physical.get(logicalId);
            if (!made || !r.DeletionPolicy || !KEPT_POLICIES.has(r.DeletionPolicy) || made.status === 'DELETE_COMPLETE') return [];
            return [{ stackName: entry.stackName, logicalId, type: made.type || (r.Type ?? ''), physicalId: made.physicalId, policy: r.DeletionPolicy === 'Snapshot' ? 'Snapshot' : 'Retain' }];
          });
          found.set(entry.name, { entry, status: stack.status, resources, kept, protectedIds: protectedResources(template) });
        }),
      );
      secretsThere = (await Promise.all(secretIds.map(async (id) => ((await apis.secrets.describe(id)) ? [id] : [])))).flat();
      const bucketState = bucket ? await apis.s3.bucketState(bucket) : 'missing';
      if (bucketState === 'owned') {
        templateKeys = (await Promise.all(stacks.map((s) => apis.s3.listObjects(bucket, templateKeyPrefix(s.stackName))))).flat().map((x) => x.key);
      }

      const guarded = [...found.values()].filter((f) => f.protectedIds.length);
      ctx.print(reviewText(inv, waves, found, secretsThere, bucket, bucketState === 'owned', templateKeys));
      if (guarded.length && !allowed) {
        const why = `deletion protection is on for ${guarded.map((f) => `${f.protectedIds.join(', ')} in ${f.entry.stackName}`).join('; ')}`;
        if (ctx.check) ctx.print(`  ${why}: the teardown needs --allow-destroy ${inv.environment}, which turns it off first`);
        else throw new RefusedError(`${why}: re-run with --allow-destroy ${inv.environment} to turn it off and delete them. Nothing was deleted`);
      }
      const total = found.size + secretsThere.length + templateKeys.length;
      if (!total) return ok('nothing of this environment is left');
      const kept = [...found.values()].reduce((n, f) => n + f.kept.length, 0);
      return ok(`${found.size} stacks, ${secretsThere.length} secrets and ${templateKeys.length} uploaded templates to delete; ${kept} resources kept by their DeletionPolicy`);
    },
  });

  const anything = found.size + secretsThere.length + templateKeys.length > 0;
  await play.task({
    name: 'approval',
    tags: ['always'],
    run: async (ctx) => {
      if (!anything) return skipped('nothing to delete');
      if (ctx.check) return skipped('--check deletes nothing');
      const yes = await ctx.confirm(
        `Delete ${inv.project} ${inv.environment} (${found.size} stacks${secretsThere.length ? `, ${secretsThere.length} secrets` : ''}) as reviewed above?`,
        'Re-run with --yes to approve, after reviewing with --check.',
      );
      if (!yes) throw new RefusedError('not approved at the prompt: nothing deleted');
      return ok('approved');
    },
  });

  const log = new ReviewLog();
  const stackTask = (entry: RenderedStack): TaskSpec => ({
    name: `delete ${entry.name}`,
    tags: ['stacks', entry.name, ...(entry.service ? ['services', entry.service] : ['infra'])],
    run: async (ctx) => {
      const f = found.get(entry.name);
      if (f?.protectedIds.length) {
        // The protection lives on the resources, so the stack is updated with it off first (a reviewed change set).
        const stack = await apis.cfn.describeStack(entry.stackName);
        if (stack) {
          if (ctx.check) {
            const how = allowed ? '' : ` (needs --allow-destroy ${inv.environment})`;
            return changed(`would turn deletion protection off on ${f.protectedIds.join(', ')}${how}, then delete ${entry.stackName}`);
          }
          ctx.progress(`turning deletion protection off on ${f.protectedIds.join(', ')}`);
          await deployStack(
            { stackName: entry.stackName, template: withoutDeletionProtection(entry.template), parameters: stack.parameters, tags: { Project: inv.project, Environment: inv.environment, ...(entry.service ? { Service: entry.service } : {}) } },
            { cfn: apis.cfn, s3: apis.s3, pollMs: apis.pollMs, log },
            ctx,
          );
        }
      }
      return deleteStack(entry.stackName, { cfn: apis.cfn, pollMs: apis.pollMs }, ctx);
    },
  });
  for (const wave of waves) await play.parallel(wave.map(stackTask));

  await play.parallel(
    secretIds.map((id) => ({
      name: `delete secret ${id.slice(id.lastIndexOf('/') + 1)}`,
      tags: ['secrets'],
      run: async (ctx) => {
        if (!(await apis.secrets.describe(id))) return ok(`${id} not there`);
        if (ctx.check) return changed(`would delete ${id}`);
        await apis.secrets.deleteNow(id);
        return changed(`${id} deleted`);
      },
    })),
  );

  await play.task({
    name: 'uploaded templates',
    tags: ['artifacts'],
    run: async (ctx) => {
      if (!templateKeys.length) return ok(bucket ? `none of ${prefix}* in s3://${bucket}` : 'no artifacts bucket');
      if (ctx.check) return changed(`would delete ${templateKeys.length} templates under s3://${bucket}/templates/${prefix}*/`);
      await apis.s3.deleteObjects(bucket, templateKeys);
      return changed(`${templateKeys.length} templates deleted from s3://${bucket}/templates/${prefix}*/; the bucket and its artifacts stay (shared by every environment)`);
    },
  });
}

const POLICY_SAYS: Record<KeptResource['policy'], string> = { Retain: 'kept as it is', Snapshot: 'deleted after a final snapshot' };

function reviewText(
  inv: Environment,
  waves: RenderedStack[][],
  found: Map<string, StackFound>,
  secrets: string[],
  bucket: string,
  bucketThere: boolean,
  templateKeys: string[],
): string {
  const lines = [`Teardown of ${inv.project} ${inv.environment} (${inv.region}):`];
  if (!found.size) lines.push('  no stack of this environment exists');
  else {
    lines.push('  stacks deleted, in this order (one line deletes together):');
    let step = 0;
    for (const wave of waves) {
      const here = wave.flatMap((s) => {
        const f = found.get(s.name);
        return f ? [`${s.stackName} (${f.status}, ${f.resources.length} resources${f.protectedIds.length ? `; deletion protection on ${f.protectedIds.join(', ')}` : ''})`] : [];
      });
      if (here.length) lines.push(`    ${++step}. ${here.join(', ')}`);
    }
  }
  const kept = [...found.values()].flatMap((f) => f.kept);
  if (kept.length) {
    lines.push('  kept (DeletionPolicy):');
    for (const k of kept) {
      lines.push(`    ${k.type} ${k.physicalId || k.logicalId} (${k.logicalId} in ${k.stackName}): ${POLICY_SAYS[k.policy]}${k.policy === 'Snapshot' ? ', the snapshot is kept' : ''}`);
    }
  }
  lines.push(secrets.length ? `  secrets deleted (made by deploy, no recovery window): ${secrets.join(', ')}` : '  no secret made by deploy is left');
  if (templateKeys.length) lines.push(`  templates deploy uploaded, deleted: ${templateKeys.length} under s3://${bucket}/templates/${resourcePrefix(inv)}-*/`);
  if (bucketThere) lines.push(`  kept: s3://${bucket} and its artifacts (every environment of this account and region deploys from it)`);
  return lines.join('\n');
}
