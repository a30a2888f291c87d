// The GitHub Actions workflow the repository ships for its users: it runs the tap suites, and on
// pull requests with AWS credentials configured it reviews the change sets and posts the review.
import t from 'tap';
import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';

interface Step {
  run?: string;
  uses?: string;
  if?: string;
  with?: Record<string, string>;
}

const text = await readFile(new URL('../../.github/workflows/ci.yml', import.meta.url), 'utf8');
const wf = parse(text) as { on: Record<string, unknown>; jobs: Record<string, { steps: Step[]; if?: string; permissions?: Record<string, string> }> };

t.test('runs the tap suites and lint on pushes and pull requests', (t) => {
  t.ok('pull_request' in wf.on && 'push' in wf.on);
  const runs = wf.jobs.test!.steps.map((s) => s.run ?? '').join('\n');
  t.match(runs, /npm ci/);
  t.match(runs, /npm test/);
  t.match(runs, /eslint/);
  t.end();
});

t.test('on pull requests with AWS credentials, posts the change-set review', (t) => {
  const review = wf.jobs.review!;
  t.match(review.if, /pull_request/);
  t.equal(review.permissions?.['pull-requests'], 'write');
  const deploy = review.steps.find((s) => /deploy\.mjs/.test(s.run ?? ''))!;
  t.match(deploy.run, /--check --detailed-exitcode --review-md build\/review\.md/);
  t.match(deploy.if, /creds\.outputs\.configured == 'true'/, 'skipped without credentials');
  const post = review.steps.find((s) => s.uses?.startsWith('actions/github-script'))!;
  t.match(post.with!.script, /createComment/);
  t.match(post.with!.script, /updateComment/, 'one comment, updated on every push');
  t.end();
});
