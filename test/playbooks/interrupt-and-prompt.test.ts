// Ctrl-C while a stack update runs: the run stops waiting, says what is still running in AWS and
// exits 130. On a terminal without --yes, the approval is asked and the answer obeyed.
import t from 'tap';
import { PassThrough } from 'node:stream';
import { ReviewLog, deployStack } from '../../playbooks/lib/modules/cloudformation-stack.js';
import { Output } from '../../playbooks/lib/output.js';
import { runPlay } from '../../playbooks/lib/runner.js';
import { templateBody } from '../../cloudformation/index.js';
import { networkTemplate } from '../fixtures/stack-templates.js';
import { FakeCloudFormation } from './fake-aws.js';
import { Captured, cloudFormationApi, options } from './support.js';

let fake: FakeCloudFormation;
t.beforeEach(() => {
  fake = new FakeCloudFormation();
  fake.addStack('sd-net', { templateBody: templateBody(networkTemplate()), parameters: {} });
});
t.afterEach(() => fake.restore());
const args = (cidr: string) => ({ stackName: 'sd-net', template: networkTemplate(cidr), parameters: {}, tags: {} });

t.test('Ctrl-C during an update says what is still running and exits 130', async (t) => {
  fake.inProgressPolls = Number.MAX_SAFE_INTEGER; // the update never ends by itself
  const out = new Captured();
  const output = new Output({ out, tty: false });
  const api = cloudFormationApi();
  const execute = api.executeChangeSet.bind(api);
  const code = await runPlay({ playbook: 't', title: 't', options: options(['--yes']), output }, async (play) => {
    api.executeChangeSet = async (...a) => {
      await execute(...a);
      play.interrupt(); // what the SIGINT handler calls
    };
    await play.task({ name: 'stack network', run: (ctx) => deployStack(args('10.1.0.0/16'), { cfn: api, pollMs: 1, log: new ReviewLog() }, ctx) });
  });
  t.equal(code, 130);
  t.match(out.text, /Interrupted\.\n {2}still running: sd-net: change set saleday-[0-9a-f]+ is (executing|UPDATE_IN_PROGRESS) in AWS and goes on without this run\. Watch it with `aws cloudformation describe-stack-events --stack-name sd-net`; a new run waits for it to end\./);
  t.match(out.text, /failed: \[stack network\] interrupted \(Ctrl-C\)/);
  t.equal(fake.stacks.get('sd-net')!.status, 'UPDATE_IN_PROGRESS', 'left running in AWS, as described');
});

t.test('on a terminal the approval is asked, and "no" executes nothing', async (t) => {
  for (const [answer, executed] of [['n', false], ['y', true]] as const) {
    const out = new Captured();
    const input = Object.assign(new PassThrough(), { isTTY: true });
    const output = new Output({ out, input, tty: true });
    const pending = runPlay({ playbook: 't', title: 't', options: options([]), output }, async (play) => {
      await play.task({ name: 'stack network', run: (ctx) => deployStack(args(answer === 'y' ? '10.2.0.0/16' : '10.3.0.0/16'), { cfn: cloudFormationApi(), pollMs: 1, log: new ReviewLog() }, ctx) });
    });
    // Answer once the question is on the screen.
    while (!out.text.includes('[y/N]')) await new Promise((r) => setImmediate(r));
    input.write(`${answer}\n`);
    const code = await pending;
    t.match(out.text, /Execute change set saleday-[0-9a-f]+ on sd-net \(1 to modify\)\? \[y\/N\]/);
    t.equal(code, executed ? 0 : 2, `answer ${answer}`);
    t.equal(fake.calls().some((c) => c.startsWith('ExecuteChangeSet')), executed);
    fake.mock.resetHistory();
  }
});
