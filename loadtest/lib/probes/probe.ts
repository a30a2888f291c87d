// Scaling probes: how the harness sees the fleet it is loading. One interface, two backends:
// the local fleet's state and activity files (local.ts) and an AWS environment's Auto Scaling
// groups and load-balancer metrics (aws.ts). The runner samples sizes while the run goes on and
// asks for the activity history and metrics once at the end.

export interface FleetSize {
  /** instances serving traffic (local: workers in-service; AWS: InService instances) */
  inService: number;
  desired: number;
  min: number;
  max: number;
  /** average CPU of the in-service instances since the last sample, in percent of one core (local: read from the workers' processes), when the probe can tell */
  cpu?: number;
}

export interface FleetSample {
  /** seconds since the start of the run */
  t: number;
  services: Record<string, FleetSize>;
}

/** One scaling activity, like an ASG's activity history. */
export interface ScalingActivity {
  time: string;
  service: string;
  from: number;
  to: number;
  cause: string;
}

/** Load-balancer figures per period (AWS: CloudWatch, ALB RequestCount and TargetResponseTime). */
export interface TargetMetrics {
  periodSeconds: number;
  points: Array<{ time: string; requests: number; p99Ms: number | undefined }>;
}

export interface ScalingProbe {
  readonly kind: 'local' | 'aws';
  /** how often sizes are worth sampling */
  readonly intervalMs: number;
  /** what it watches, for the report */
  describe(): string;
  sample(): Promise<Record<string, FleetSize>>;
  activities(since: Date, until: Date): Promise<ScalingActivity[]>;
  metrics(since: Date, until: Date): Promise<TargetMetrics | undefined>;
}
