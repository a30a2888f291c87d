// The templates of every shipped inventory, byte for byte as checked in under test/fixtures/golden/.
// A change to a renderer that moves a single byte fails here; when the change is meant, render the
// three inventories again into that folder, for the fixed time GOLDEN_NOW (sale events are placed
// against it), and commit the files with the change:
//   for e in local staging production; do node playbooks/render.mjs -i playbooks/inventories/$e.yaml -o test/fixtures/golden -e now=2026-12-01T00:00:00Z; done
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { loadEnvironment } from '../../environment/index.js';
import { renderEnvironment } from '../../cloudformation/index.js';
import { ENVIRONMENTS, GOLDEN_NOW, inventoryFile } from './fixtures.js';

const golden = (env: string) => fileURLToPath(new URL(`../fixtures/golden/${env}/`, import.meta.url));

for (const env of ENVIRONMENTS) {
  t.test(`${env}: every template is byte-identical to the checked-in copy`, async (t) => {
    const files = renderEnvironment(await loadEnvironment(inventoryFile(env)), { now: GOLDEN_NOW });
    t.same(files.map((f) => f.file).sort(), (await readdir(golden(env))).sort(), 'the same stacks');
    for (const f of files) {
      const expected = await readFile(`${golden(env)}${f.file}`, 'utf8');
      t.equal(f.body, expected, `${f.file}: same bytes`);
    }
  });
}
