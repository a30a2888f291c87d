// One call for everything the templates of an environment must pass before a deploy: the resource
// specification, the security rules and the stack wiring. Used by the tests and by the playbooks.
import type { Finding } from './findings.js';
import { checkSecurity } from './security-rules.js';
import { checkAgainstSpec, loadResourceSpec, type ResourceSpec } from './spec-check.js';
import type { RenderedStack } from './stack.js';
import { checkWiring } from './wiring.js';

export async function validateStacks(stacks: readonly RenderedStack[], spec?: ResourceSpec): Promise<Finding[]> {
  const db = spec ?? (await loadResourceSpec());
  return [
    ...stacks.flatMap((s) => checkAgainstSpec(s.template, db, s.name)),
    ...stacks.flatMap((s) => checkSecurity(s.template, s.name)),
    ...checkWiring(stacks),
  ];
}
