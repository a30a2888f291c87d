#!/usr/bin/env node
// ./playbooks/render.mjs [-i playbooks/inventories/<env>.yaml] [-e key.path=value]... [-o <dir>] [--validate]
//
// Renders every CloudFormation stack of one environment to <dir>/<environment>/<stack>.yaml
// (default dir build/cloudformation, default inventory production.yaml). The same inventory always
// gives the same bytes; unchanged files are left alone. --validate also checks the templates against
// the CloudFormation resource specification, the security rules and the stack wiring.
import { Buffer } from 'node:buffer';
import { fs, path, parseArgv, chalk } from 'zx';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const USAGE = 'usage: ./playbooks/render.mjs [-i playbooks/inventories/<env>.yaml] [-e key.path=value]... [-o build/cloudformation] [--validate]';
const TEMPLATE_BODY_LIMIT = 51_200;

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
    ...(await import(path.join(root, 'dist/playbooks/lib/inventory.js'))),
    ...(await import(path.join(root, 'dist/cloudformation/index.js'))),
    ...(await import(path.join(root, 'dist/cloudformation/lib/validate.js'))),
    ...(await import(path.join(root, 'dist/cloudformation/lib/findings.js'))),
  };
} catch (err) {
  fail(`the compiled library is missing (${err.code ?? err.message}): run npm run build first`);
}

let inventory;
try {
  inventory = await lib.loadInventory(inventoryFile, { overrides });
} catch (err) {
  if (err instanceof lib.InventoryError) fail(err.message);
  throw err;
}

const files = lib.renderEnvironment(inventory);
if (args.validate) {
  const findings = await lib.validateStacks(files.map((f) => f.stack));
  for (const f of findings) process.stderr.write(`${chalk.red(lib.formatFinding(f))}\n`);
  if (findings.length) fail(`${findings.length} finding(s): nothing written`);
}

// Write each file atomically (temp file + rename) and only when its bytes change.
const dir = path.join(outDir, inventory.environment);
await fs.mkdir(dir, { recursive: true });
let changed = 0;
for (const f of files) {
  const target = path.join(dir, f.file);
  const current = await fs.readFile(target, 'utf8').catch(() => undefined);
  const status = current === f.body ? 'ok' : 'changed';
  if (status === 'changed') {
    const temp = `${target}.${process.pid}.tmp`;
    await fs.writeFile(temp, f.body);
    await fs.rename(temp, target);
    changed++;
  }
  const size = Buffer.byteLength(f.body);
  const note = size > TEMPLATE_BODY_LIMIT ? chalk.yellow(` over ${TEMPLATE_BODY_LIMIT} bytes: deploy via S3`) : '';
  const resources = Object.keys(f.stack.template.Resources).length;
  process.stdout.write(`${status === 'ok' ? chalk.green('ok     ') : chalk.yellow('changed')} ${path.relative(process.cwd(), target)} (${resources} resources, ${(size / 1024).toFixed(1)} KB)${note}\n`);
}
// Stacks no longer rendered (e.g. a renamed stack) would otherwise linger and mislead a deploy.
const expected = new Set(files.map((f) => f.file));
for (const name of await fs.readdir(dir)) {
  if (name.endsWith('.yaml') && !expected.has(name)) {
    await fs.rm(path.join(dir, name));
    process.stdout.write(`${chalk.yellow('removed')} ${path.relative(process.cwd(), path.join(dir, name))}\n`);
  }
}
process.stdout.write(`${inventory.environment}: ${files.length} stacks rendered, ${changed} changed${args.validate ? ', all checks passed' : ''}\n`);
