// The tasks both targets start with: render every template for the inventory, validate them, and
// write them under build/cloudformation/<env>/ (only when valid, only files whose bytes changed),
// so a user of the local target also sees what would go to AWS.
import type { Play } from '../runner.js';
import { changed, ok, skipped } from '../runner.js';
import { RefusedError } from '../errors.js';
import type { RenderedStack, TemplateSource } from '../templates.js';

export async function renderAndValidate(play: Play, source: TemplateSource): Promise<RenderedStack[]> {
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
      const findings = await source.validate(stacks);
      for (const f of findings.filter((x) => x.severity === 'warning')) ctx.progress(`warning ${f.stack}: ${f.rule}: ${f.message}`);
      const errors = findings.filter((x) => x.severity === 'error');
      if (errors.length) {
        throw new RefusedError(`${errors.length} template error${errors.length === 1 ? '' : 's'}:\n${errors.map((f) => `${f.stack}: ${f.rule}: ${f.message}`).join('\n')}`);
      }
      return ok(`${stacks.length} templates valid${findings.length ? ` (${findings.length} warnings)` : ''}`);
    },
  });
  await play.task({
    name: 'write templates',
    tags: ['always', 'render'],
    run: async (ctx) => {
      if (ctx.check) return skipped('--check writes nothing');
      const written = await source.write(stacks);
      return written.length ? changed(`${written.length} files written under build/cloudformation/`) : ok('files unchanged');
    },
  });
  return stacks;
}
