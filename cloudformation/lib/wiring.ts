// Checks how the stacks of one environment fit together: every parameter without a default has a
// source, every source is an output of a stack that can deploy before (see deploy-order.ts; in a
// cycle, the input from a stack registered later is the one reported), stack names are valid. The playbook runs it before deploying; it is also what makes "outputs become
// parameters, never hard-coded ids" checkable.
import { reaches } from './deploy-order.js';
import type { Finding } from './findings.js';
import type { RenderedStack } from './stack.js';

export function checkWiring(stacks: readonly RenderedStack[]): Finding[] {
  const findings: Finding[] = [];
  const add = (stack: string, path: string, message: string) => findings.push({ rule: 'stack-wiring', severity: 'error', stack, path, message });
  const byName = new Map(stacks.map((s) => [s.name, s]));
  const position = new Map(stacks.map((s, i) => [s.name, i]));
  if (byName.size !== stacks.length) add('(all)', 'stacks', 'two stacks share a name');
  stacks.forEach((stack, index) => {
    if (!/^[A-Za-z][A-Za-z0-9-]{0,127}$/.test(stack.stackName)) add(stack.name, 'stackName', `${stack.stackName} is not a valid CloudFormation stack name`);
    const parameters = stack.template.Parameters;
    for (const [name, p] of Object.entries(parameters)) {
      if (p.Default === undefined && !stack.inputs[name]) add(stack.name, `Parameters.${name}`, `no default and no source: the playbook would not know what to pass`);
    }
    for (const [name, input] of Object.entries(stack.inputs)) {
      if (!parameters[name]) add(stack.name, `Parameters.${name}`, 'an input for a parameter the template does not declare');
      if (input.from !== 'output') continue;
      const source = byName.get(input.stack);
      if (!source) add(stack.name, `Parameters.${name}`, `comes from stack ${input.stack}, which is not rendered`);
      else if (position.get(input.stack)! >= index && reaches(stacks, input.stack, stack.name)) add(stack.name, `Parameters.${name}`, `comes from stack ${input.stack}, which is deployed after ${stack.name}`);
      else if (!source.template.Outputs[input.output]) add(stack.name, `Parameters.${name}`, `comes from ${input.stack} output ${input.output}, which that stack does not have`);
    }
  });
  return findings;
}
