// What deploy.mjs and drift.mjs run against: the inventory loader and the CloudFormation renderers
// (cloudformation/), plugged into the playbook runner. Templates are validated by the same checks
// as render.mjs --validate and written by the same writer, to build/cloudformation/<environment>/.
import { join, relative } from 'node:path';
import { renderEnvironment, type RenderedFile } from '../../cloudformation/index.js';
import { validateStacks } from '../../cloudformation/lib/validate.js';
import { writeRendered } from '../../cloudformation/lib/write-rendered.js';
import { loadEnvironment, type Environment } from '../../environment/index.js';
import { runPlaybook, type PlaybookEnv } from './main.js';
import type { Template } from './stacks.js';
import type { InventoryView, TemplateSource } from './templates.js';

export { runPlaybook };

export function templateSource(inv: Environment, root: string): TemplateSource {
  let files: RenderedFile[] = [];
  return {
    render() {
      files = renderEnvironment(inv);
      return files.map((f) => ({
        key: f.stack.name,
        stackName: f.stack.stackName,
        service: f.stack.name.startsWith('service-') ? f.stack.name.slice('service-'.length) : undefined,
        template: f.stack.template as unknown as Template,
        inputs: f.stack.inputs,
      }));
    },
    async validate() {
      const findings = await validateStacks(files.map((f) => f.stack));
      return findings.map((f) => ({ severity: f.severity, stack: f.stack, rule: f.rule, path: f.path, message: `${f.path}: ${f.message}` }));
    },
    async write() {
      const written = await writeRendered(files, join(root, 'build/cloudformation', inv.environment));
      return written.filter((w) => w.status !== 'ok').map((w) => relative(root, w.path));
    },
  };
}

export function playbookEnv(root: string): PlaybookEnv {
  return {
    root,
    loadEnvironment: (file, opts): Promise<InventoryView> => loadEnvironment(file, { overrides: opts.overrides }),
    templates: (inv) => templateSource(inv as unknown as Environment, root),
  };
}
