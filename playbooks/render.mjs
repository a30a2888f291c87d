#!/usr/bin/env node
// ./playbooks/render.mjs [-i playbooks/inventories/<env>.yaml] [-e key.path=value]... [-o <dir>] [--validate]
//
// Renders every CloudFormation stack of one environment to <dir>/<environment>/<stack>.yaml
// (default dir build/cloudformation, default inventory production.yaml). The same inventory always
// gives the same bytes; unchanged files are left alone. --validate also checks the templates against
// the CloudFormation resource specification, the security rules and the stack wiring.
import { path, parseArgv, chalk } from 'zx';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const USAGE = 'usage: ./playbooks/render.mjs [-i playbooks/inventories/<env>.yaml] [-e key.path=value]... [-o build/cloudformation] [--validate]';

function fail(message, code = 1) {
  process.stderr.write(`${chalk.red('render:')} ${message}\n`);
  process.exit(code);
}

const unknown = [];
const args = parseArgv(process.argv.slice(2), {
  string: ['inventory', 'extra', 'out'],
  boolean: ['validate', 'help'],
  alias: { i: 'inventory', e: 'extra', o: 'out', h: 'help' },
  unknown: (arg) => (unknown.push(arg), false),
});
if (args.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
if (unknown.length) fail(`unknown argument ${unknown[0]}; ${USAGE}`);
for (const flag of ['inventory', 'out']) {
  if (Array.isArray(args[flag])) fail(`-${flag[0]} given more than once; ${USAGE}`);
  if (args[flag] === '') fail(`-${flag[0]} needs a value; ${USAGE}`);
}
const overrides = [args.extra ?? []].flat();
if (overrides.some((e) => !e.includes('='))) fail('-e needs key.path=value, e.g. -e services.orders.scaling.max=12');
const inventoryFile = args.inventory ?? path.join('playbooks', 'inventories', 'production.yaml');
const outDir = path.resolve(args.out ?? path.join(root, 'build', 'cloudformation'));

let lib;
try {
  lib = {
    ...(await import(path.join(root, 'dist/environment/index.js'))),
    ...(await import(path.join(root, 'dist/cloudformation/index.js'))),
    ...(await import(path.join(root, 'dist/cloudformation/lib/validate.js'))),
    ...(await import(path.join(root, 'dist/cloudformation/lib/findings.js'))),
    ...(await import(path.join(root, 'dist/cloudformation/lib/write-rendered.js'))),
  };
} catch (err) {
  fail(`the compiled library is missing (${err.code ?? err.message}): run npm run build first`);
}

let inventory;
try {
  inventory = await lib.loadEnvironment(inventoryFile, { overrides });
} catch (err) {
  if (err instanceof lib.InventoryFileError) fail(err.message);
  throw err;
}

// Renderers are pure; the clock lives here. Auto Scaling refuses scheduled actions in the past.
for (const e of lib.pastSaleEvents(inventory, new Date())) {
  process.stderr.write(`${chalk.yellow('warning:')} sale event ${e.name} (${e.start}) is under way or over: remove it from the inventory before deploying\n`);
}

const files = lib.renderEnvironment(inventory);
if (args.validate) {
  const findings = await lib.validateStacks(files.map((f) => f.stack));
  for (const f of findings) process.stderr.write(`${chalk.red(lib.formatFinding(f))}\n`);
  if (findings.length) fail(`${findings.length} finding(s): nothing written`);
}

const written = await lib.writeRendered(files, path.join(outDir, inventory.environment));
for (const w of written) {
  const label = { ok: chalk.green('ok     '), changed: chalk.yellow('changed'), removed: chalk.yellow('removed') }[w.status];
  const detail = w.status === 'removed' ? '' : ` (${w.resources} resources, ${(w.bytes / 1024).toFixed(1)} KB)`;
  const note = w.bytes > lib.TEMPLATE_BODY_LIMIT ? chalk.yellow(` over ${lib.TEMPLATE_BODY_LIMIT} bytes: deploy via S3`) : '';
  process.stdout.write(`${label} ${path.relative(process.cwd(), w.path)}${detail}${note}\n`);
}
const changed = written.filter((w) => w.status === 'changed').length;
process.stdout.write(`${inventory.environment}: ${files.length} stacks rendered, ${changed} changed${args.validate ? ', all checks passed' : ''}\n`);
