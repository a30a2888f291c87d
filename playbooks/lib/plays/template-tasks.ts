// The tasks every play that touches templates starts with: render every stack of the inventory,
// validate the templates, and write them under build/cloudformation/<env>/ (only when valid, only
// files whose bytes changed, stale ones removed), so a user of the local target also sees what
// would go to AWS. Render runs the same tasks with its own flags.
import { relative } from 'node:path';
import { TEMPLATE_BODY_LIMIT, uploadsTemplate, type Finding, type RenderedStack, type WrittenFile } from '../../../cloudformation/index.js';
import { RefusedError } from '../errors.js';
import type { Play } from '../runner.js';
import { changed, ok, skipped } from '../runner.js';
import type { StackSource } from '../stack-source.js';

export interface TemplateTaskOptions {
  /** Whether to validate (render validates only with --validate); default true. */
  validate?: boolean;
  /** List every file with what happened to it (render). */
  listFiles?: boolean;
  /** Receives the warnings of the checks (the deploy's review lists them). */
  warnings?: Finding[];
}

const shown = (path: string): string => {
  const rel = relative(process.cwd(), path);
  return rel.startsWith('..') ? path : rel;
};
const describe = (f: Finding): string => `${f.stack}: ${f.rule}: ${f.path ? `${f.path}: ` : ''}${f.message}`;

export async function templateTasks(play: Play, source: StackSource, opts: TemplateTaskOptions = {}): Promise<RenderedStack[]> {
  let stacks: RenderedStack[] = [];
  await play.task({
    name: 'render templates',
    tags: ['always', 'render'],
    run: () => {
      stacks = source.render();
      return Promise.resolve(ok(`${stacks.length} stacks rendered`));
    },
  });
  await play.task({
    name: 'validate templates',
    tags: ['always', 'render'],
    run: async (ctx) => {
      if (opts.validate === false) return skipped('not asked for (--validate checks them)');
      const findings = await source.validate(stacks);
      for (const f of findings.filter((x) => x.severity === 'warning')) {
        ctx.progress(`warning ${describe(f)}`);
        opts.warnings?.push(f);
      }
      const errors = findings.filter((x) => x.severity === 'error');
      if (errors.length) {
        throw new RefusedError(`${errors.length} template error${errors.length === 1 ? '' : 's'}:\n${errors.map(describe).join('\n')}`);
      }
      return ok(`${stacks.length} templates valid${findings.length ? ` (${findings.length} warnings)` : ''}`);
    },
  });
  await play.task({
    name: 'write templates',
    tags: ['always', 'render'],
    run: async (ctx) => {
      if (ctx.check) return skipped('--check writes nothing');
      const { dir, files } = await source.write(stacks);
      const count = (status: WrittenFile['status']) => files.filter((f) => f.status === status).length;
      const list = opts.listFiles ? files.map((f) => `\n${fileLine(f, stacks)}`).join('') : '';
      if (!count('changed') && !count('removed')) return ok(`files unchanged in ${shown(dir)}/${list}`);
      return changed(`${count('changed')} files written${count('removed') ? `, ${count('removed')} removed` : ''} under ${shown(dir)}/${list}`);
    },
  });
  return stacks;
}

/** `changed build/cloudformation/staging/network.yaml (52 resources, 20.4 KB)`, and whether it deploys through S3. */
function fileLine(f: WrittenFile, stacks: readonly RenderedStack[]): string {
  if (f.status === 'removed') return `removed ${shown(f.path)}`;
  const stack = stacks.find((s) => `${s.name}.yaml` === f.file);
  const viaS3 = stack && uploadsTemplate(stack.template) ? ` (over ${TEMPLATE_BODY_LIMIT} bytes: deploys through S3)` : '';
  return `${f.status.padEnd(7)} ${shown(f.path)} (${f.resources} resources, ${(f.bytes / 1024).toFixed(1)} KB)${viaS3}`;
}
