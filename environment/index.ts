// The environment model's public API: what every part (renderers, playbooks, the local cloud, the
// load harness, benchmarks) imports. It imports no part above it; below it are only the service
// declarations (services/<name>/declaration.ts).
export * from './schema.js';
export * from './load.js';
export * from './services.js';
export * from './shared-secrets.js';
export * from './yaml-problems.js';
export * from './local-state.js';
export * from './proxy-hops.js';
