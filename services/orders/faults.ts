// Fault injection for crash tests (ORDERS_FAULT, unset in production): `pause-after-reserve` or
// `pause-after-order` makes every checkout stop for good at that point, after logging one line
// ("fault injected"), so a test can SIGKILL the process exactly between two saga steps.
import type { Logger } from '../kit/log.js';

export const FAULTS = ['none', 'pause-after-reserve', 'pause-after-order'] as const;
export type Fault = (typeof FAULTS)[number];
export type FaultPoint = 'after-reserve' | 'after-order';

export class Faults {
  constructor(
    private readonly fault: Fault,
    private readonly log: Logger,
  ) {
    if (fault !== 'none') log.warn({ fault }, 'fault injection is on: checkouts will stop part-way');
  }

  async at(point: FaultPoint, details: Record<string, unknown>): Promise<void> {
    if (this.fault !== `pause-${point}`) return;
    this.log.warn({ fault: this.fault, ...details }, 'fault injected: checkout paused');
    await new Promise<never>(() => undefined);
  }
}
