// What a load run cost in instance-hours, from the fleet samples its scaling probe took (the
// harness's result.json, fleet.samples): each sample's instances in service count until the next
// sample. The figure covers the load, not the deploy or the teardown around it.

/** A fleet sample as result.json keeps it (only what this reads). */
export interface FleetSampleLike {
  /** seconds since the start of the run */
  t: number;
  services: Record<string, { inService: number }>;
}

export interface InstanceHours {
  total: number;
  byService: Record<string, number>;
  /** the seconds the samples span */
  spanS: number;
  samples: number;
}

export function instanceHours(samples: FleetSampleLike[]): InstanceHours {
  const sorted = [...samples].sort((a, b) => a.t - b.t);
  const byService: Record<string, number> = {};
  for (let i = 0; i + 1 < sorted.length; i++) {
    const dtH = (sorted[i + 1]!.t - sorted[i]!.t) / 3600;
    for (const [name, size] of Object.entries(sorted[i]!.services)) byService[name] = (byService[name] ?? 0) + size.inService * dtH;
  }
  const total = Object.values(byService).reduce((a, h) => a + h, 0);
  return { total, byService, spanS: sorted.length ? sorted.at(-1)!.t - sorted[0]!.t : 0, samples: sorted.length };
}

export function formatInstanceHours(h: InstanceHours): string {
  const parts = Object.entries(h.byService).map(([name, v]) => `${name} ${v.toFixed(3)}`);
  return `${h.total.toFixed(3)} instance-hours${parts.length ? ` (${parts.join(', ')})` : ''} from ${h.samples} fleet samples over ${Math.round(h.spanS)} s of load`;
}
