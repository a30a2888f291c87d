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

t.test('installs the AWS emulator and the CloudFormation linter the suites use, before the tests', (t) => {
  const steps = wf.jobs.test!.steps;
  const python = steps.findIndex((s) => s.uses?.startsWith('actions/setup-python'));
  t.ok(python >= 0, 'sets up Python');
  t.equal(steps[python]?.with?.['python-version'], '3.11');
  const pip = steps.findIndex((s) => /pip install "moto\[server\]==5\.2\.1" "cfn-lint==1\.51\.0"/.test(s.run ?? ''));
  t.ok(pip > python, 'pip installs moto[server] 5.2.1 and cfn-lint 1.51.0 after it');
  t.ok(pip < steps.findIndex((s) => /npm test/.test(s.run ?? '')), 'before npm test');
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
