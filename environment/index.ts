// The environment model's public API: what every part (renderers, playbooks, the local cloud, the
// load harness, benchmarks) imports. It imports no part above it.
export * from './schema.js';
export * from './load.js';
export * from './local-state.js';
