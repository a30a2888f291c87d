// The warning render and an aws deploy give about sale events whose pre-warm time has passed: Auto
// Scaling refuses scheduled actions in the past. Renderers are pure, so the clock is read here.
import { pastSaleEvents, type Environment } from '../../../environment/index.js';
import type { Play } from '../runner.js';

export function warnPastSaleEvents(play: Play, inv: Environment, now = new Date()): void {
  for (const e of pastSaleEvents(inv, now)) {
    play.warn(`sale event ${e.name} (${e.start}) is under way or over: remove it from the inventory before deploying`);
  }
}
