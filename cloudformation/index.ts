// cloudformation/'s one public API: what the playbooks (and anyone else) use. Every stack is
// registered once (registry.ts) and rendered as a RenderedStack: its template, its name and, for a
// per-service stack, its service, and the inputs its parameters take from other stacks' outputs,
// service artifacts and shared secrets. From those inputs come the deploy waves and the wiring
// check; output references (NETWORK, LOAD_BALANCER, STATIC_SITE, …) name each output once, where
// its renderer defines it.

// The stack contract.
export type { Input, OutputRef, RegionalLookup, RenderedStack, SecretStage } from './lib/stack.js';
export type { Expr, Output, Parameter, Resource, Template, Value } from './lib/template.js';
export { fromOutput, pascal, stackOutputs, StackBuilder } from './lib/stack.js';

// Registered stacks, rendered in order.
export { renderEnvironment, renderStacks, SHOP_STACKS, type RenderContext, type RenderedFile, type RenderOptions, type StackRegistration } from './registry.js';

// Checks, the deploy order, files, and the body CloudFormation receives.
export { formatFinding, type Finding } from './lib/findings.js';
export { validateStacks } from './lib/validate.js';
export { deployWaves } from './lib/deploy-order.js';
export { writeRendered, type WrittenFile } from './lib/write-rendered.js';
export { parseTemplateBody, TEMPLATE_BODY_LIMIT, templateBody, uploadsTemplate, type DeployedTemplate } from './lib/template-body.js';

// Outputs other stacks and the playbooks read, named by the renderer that defines them.
export { NETWORK } from './network.js';
export { DATABASE, dbSecretArn, replicaIdentifier } from './database.js';
export { CACHE, CACHE_AUTH_SECRET, CACHE_PORT } from './cache.js';
export { EDGE_HEADER, edgeBehaviourRows, MANAGED_CACHING_DISABLED, PUBLIC_READ_MAX_TTL, publicReadPaths } from './lib/edge-cache.js';
export { adminSecretName, BOOTSTRAP, BOOTSTRAP_ARTIFACT, BOOTSTRAP_HANDLER_PROGRAM } from './bootstrap.js';
export { CLOUDFRONT_ORIGIN_PREFIX_LIST, internalTargetGroupArn, LOAD_BALANCER, targetGroupArn, targetGroupFullName } from './load-balancer.js';
export { ORIGIN_HEADER_NAME, ORIGIN_HEADER_SECRET } from './lib/origin-header.js';
export { autoScalingGroupName, serviceStackName } from './service.js';
export { CLOUDFRONT_HOSTED_ZONE_ID, STATIC_SITE } from './static-site.js';
export { LOADGEN, LOADGEN_ARTIFACT, LOADGEN_CONTAINER, LOADGEN_IMAGE, LOADGEN_RESULTS_PREFIX } from './loadgen.js';
export { LOADGEN_BOOTSTRAP } from './lib/loadgen-bootstrap.js';
