// What every playbook script (deploy, render, drift, status, destroy) does: load the compiled
// playbook library (dist/, built by npm ci) and run the named playbook with the command line,
// exiting with its code. A missing build gets one line that says what to run, not a stack trace.
// node:path, not zx's re-export of it: loading zx costs about half a second on every playbook run.
import path from 'node:path';

export async function runPlaybookScript(name) {
  const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
  let lib;
  try {
    lib = await import(path.join(root, 'dist/playbooks/lib/scripts.js'));
  } catch (err) {
    process.stderr.write(`${name}: the compiled playbook library is missing (${err.code ?? err.message}): run npm run build first\n`);
    process.exit(1);
  }
  process.exitCode = await lib.runPlaybook(name, process.argv.slice(2), lib.playbookDeps(root));
}
