// Sale events at the time of a run: render and deploy warn about events that are over (left out of
// the templates) and under way (only the end is still scheduled), and a deploy during an event's
// window needs the event named with -e during-sale=<name>: --yes alone does not approve it. The
// renderers are pure; the plays hold the clock and pass it in (TargetRun.now).
import { saleEventPhase, type Environment, type SaleEvent } from '../../../environment/index.js';
import { RefusedError } from '../errors.js';
import { type Play, type TaskOutcome, changed, ok } from '../runner.js';

/** The -e key that approves a deploy during a sale event's window. */
export const DURING_SALE_VAR = 'during-sale';

export function saleEventsUnderWay(inv: Environment, now: Date): SaleEvent[] {
  return inv.saleEvents.filter((e) => saleEventPhase(e, now) === 'under-way');
}

export function warnSaleEvents(play: Play, inv: Environment, now: Date): void {
  for (const e of inv.saleEvents) {
    const phase = saleEventPhase(e, now);
    if (phase === 'over') {
      play.warn(`sale event ${e.name} ended at ${e.end}: left out of the templates; remove it from the inventory`);
    } else if (phase === 'under-way') {
      play.warn(`sale event ${e.name} is under way until ${e.end}: its floor is raised now and lowered at the end; the pre-warm action is left out`);
    }
  }
}

/**
 * The deploy's gate: during an event's window (pre-warm to end) the change lands on a shop under
 * sale load, so the operator names the event to go on. --check only reports it.
 */
export function duringSaleGate(inv: Environment, now: Date, approvedName: string | undefined, check: boolean): TaskOutcome {
  const events = saleEventsUnderWay(inv, now);
  if (!events.length) return ok('no sale event under way');
  const names = events.map((e) => `${e.name} (until ${e.end})`).join(', ');
  if (events.every((e) => e.name === approvedName)) return changed(`deploying during sale event ${names}: approved with -e ${DURING_SALE_VAR}=${approvedName}`);
  const how = `-e ${DURING_SALE_VAR}=${events[0]!.name}`;
  if (check) return changed(`sale event ${names} is under way: a deploy needs ${how}`);
  throw new RefusedError(`sale event ${names} is under way: nothing deployed. Deploy after it ends, or re-run with ${how} to deploy during it`);
}
