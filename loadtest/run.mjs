#!/usr/bin/env node
// The sale-day load harness: ./loadtest/run.mjs --profile loadtest/profiles/sale-day.yaml --target local
// A thin entry: the engine is TypeScript in loadtest/lib, built into dist/ by `npm run build`.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const cli = join(root, 'dist', 'loadtest', 'lib', 'cli.js');
if (!existsSync(cli)) {
  process.stderr.write(`${cli} is missing: build the harness first (npm ci, or npm run build)\n`);
  process.exit(1);
}
const { main } = await import(pathToFileURL(cli).href);
const code = await main(process.argv.slice(2), { root });
process.exit(code);
