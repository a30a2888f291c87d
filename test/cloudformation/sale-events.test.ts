// Sale events against the time a template is for (render's `now`): an event that is over is left
// out, one under way keeps what can still happen (the floor raised now, lowered at the end), events
// ahead are scheduled as written; no scheduled action ever starts before `now`.
import t from 'tap';
import { loadEnvironment, prewarmTime, type Environment } from '../../environment/index.js';
import { pascal, renderStacks, type RenderedStack } from '../../cloudformation/index.js';
import type { Template } from '../../cloudformation/lib/template.js';
import { GOLDEN_NOW, inventoryFile, ofType } from './fixtures.js';

const production = await loadEnvironment(inventoryFile('production'));
const staging = await loadEnvironment(inventoryFile('staging'));
const services = (inv: Environment, now: Date): RenderedStack[] => renderStacks(inv, { now }).filter((s) => s.service);
const asg = (x: Template) => x.Resources.AutoScalingGroup!.Properties!;

t.test('between events: no scheduled action starts before the render time', (t) => {
  for (const [inv, now] of [[production, GOLDEN_NOW], [staging, GOLDEN_NOW], [production, new Date('2026-11-29T12:00:00Z')]] as const) {
    for (const s of services(inv, now)) {
      const actions = ofType(s.template, 'AWS::AutoScaling::ScheduledAction');
      for (const [id, a] of actions) t.ok(Date.parse(a.Properties!.StartTime as string) > now.getTime(), `${inv.environment}/${s.name} ${id} starts after ${now.toISOString()}`);
      t.equal(asg(s.template).DesiredCapacity, String(inv.services[s.service as 'orders'].scaling.desired), `${s.name}: no event under way, the usual size`);
    }
  }
  const orders = services(production, GOLDEN_NOW).find((s) => s.service === 'orders')!.template.Resources;
  t.same(Object.keys(orders).filter((id) => /^(Prewarm|Restore)/.test(id)), ['PrewarmSummerSale2027', 'RestoreSummerSale2027'], 'Black Friday and Cyber Monday are over and left out; the summer sale is ahead');
  const between = services(production, new Date('2026-11-29T12:00:00Z')).find((s) => s.service === 'orders')!.template.Resources;
  t.ok(between.PrewarmCyberMonday2026 && between.RestoreCyberMonday2026 && !between.PrewarmBlackFriday2026, 'between Black Friday and Cyber Monday: only the events ahead');
  t.end();
});

t.test('under way: the floor is raised now and lowered at the end; the size the group grew to is kept', (t) => {
  const event = production.saleEvents.find((e) => e.name === 'black-friday-2026')!;
  for (const now of [new Date(prewarmTime(event)), new Date('2026-11-28T12:00:00Z')]) {
    const stacks = services(production, now);
    for (const s of stacks) {
      const service = s.service as 'orders';
      const x = s.template;
      const id = pascal(event.name);
      t.notOk(x.Resources[`Prewarm${id}`], `${s.name}: no pre-warm action in the past`);
      t.match(x.Resources[`Restore${id}`]!.Properties, { StartTime: event.end, MinSize: production.services[service].scaling.min }, `${s.name}: lowered at the end`);
      t.equal(asg(x).MinSize, String(event.prewarm[service]!.min), `${s.name}: the floor is the event's, now`);
      t.notOk('DesiredCapacity' in asg(x), `${s.name}: no DesiredCapacity, so an update never shrinks the group mid-sale`);
      t.equal((x.Resources.AutoScalingGroup!.CreationPolicy as { ResourceSignal: { Count: number } }).ResourceSignal.Count, event.prewarm[service]!.min, `${s.name}: a new group signals at the floor`);
      t.ok(x.Resources.PrewarmCyberMonday2026, `${s.name}: the next event is still scheduled`);
    }
  }
  t.end();
});

t.test('without a time every event is rendered as written (the play always passes one)', (t) => {
  const orders = renderStacks(production).find((s) => s.service === 'orders')!.template.Resources;
  t.ok(orders.PrewarmBlackFriday2026 && orders.PrewarmCyberMonday2026 && orders.PrewarmSummerSale2027);
  t.end();
});
