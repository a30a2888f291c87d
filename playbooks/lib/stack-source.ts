// The stacks of one environment as a playbook gets them: rendered, validated and written, through
// cloudformation/'s public API. A play only sees this interface, so tests hand it stand-in stacks
// (test/fixtures/aws-play.ts) and a new stack or service reaches every play by registration alone.
import { join } from 'node:path';
import {
  renderEnvironment, validateStacks, writeRendered, type Finding, type RenderedFile, type RenderedStack, type RenderOptions, type WrittenFile,
} from '../../cloudformation/index.js';
import type { Environment } from '../../environment/index.js';

export interface StackSource {
  render(): RenderedStack[];
  /** The resource specification, the security rules and the wiring (findings, not exceptions). */
  validate(stacks: readonly RenderedStack[]): Promise<Finding[]>;
  /** Writes <dir>/<stack>.yaml for each stack, only the files whose bytes change; removes stale ones. */
  write(stacks: readonly RenderedStack[]): Promise<WrittenFiles>;
}

export interface WrittenFiles {
  /** The folder written to, absolute. */
  dir: string;
  files: WrittenFile[];
}

export interface RenderedSourceOptions extends RenderOptions {
  /** Where the environment's folder goes; default <root>/build/cloudformation. */
  outDir?: string | undefined;
}

/** The environment's stacks from the cloudformation/ renderers (the shop's, or composed ones). */
export function renderedStacks(inv: Environment, root: string, opts: RenderedSourceOptions = {}): StackSource {
  const dir = join(opts.outDir ?? join(root, 'build/cloudformation'), inv.environment);
  let files: RenderedFile[] = [];
  const filesOf = (stacks: readonly RenderedStack[]) => files.filter((f) => stacks.includes(f.stack));
  return {
    render() {
      files = renderEnvironment(inv, opts);
      return files.map((f) => f.stack);
    },
    validate: (stacks) => validateStacks(stacks),
    async write(stacks) {
      return { dir, files: await writeRendered(filesOf(stacks), dir) };
    },
  };
}
