// service-<name>, rendered once per service: a least-privilege instance role, a security group open
// only to the load balancer, a launch template (Amazon Linux 2023, IMDSv2 only, encrypted gp3, the
// bootstrap user-data) and an Auto Scaling group over the private-app subnets with target tracking
// on CPU and requests per target, pre-warm scheduled actions for every sale event, a rolling update
// that keeps capacity in service, and optional Spot through a mixed instances policy.
import {
  architectureOf, prewarmOf, prewarmTime, saleEventPhase, settingsOf, SHARED_SECRETS, trustedProxyHops, type Environment, type SaleEvent, type ServiceCatalogue, type ServiceDeclaration,
} from '../environment/index.js';
import { CACHE, CACHE_PORT } from './cache.js';
import { DATABASE, dbSecretArn } from './database.js';
import { ARTIFACT_BUCKET, fromOutput, fullName, pascal, secretArn, securityGroupId, StackBuilder, subnetList, VPC_ID, type Input, type OutputRef, type RenderedStack } from './lib/stack.js';
import { internalTargetGroupArn, LOAD_BALANCER, targetGroupArn, targetGroupFullName } from './load-balancer.js';
import { NETWORK } from './network.js';
import { base64, getAtt, ref, sub, type Value } from './lib/template.js';
import { serviceUserData } from './lib/user-data.js';
import type { RenderContext } from './registry.js';

export const ASG_ID = 'AutoScalingGroup';
/** The launch lifecycle hook an instance completes once /readyz answers (groups with a warm pool). */
export const READY_HOOK = 'instance-ready';

/** A service's stack, and the output the monitoring stack takes from it. */
export const serviceStackName = (service: string): string => `service-${service}`;
export const autoScalingGroupName = (service: string): OutputRef => fromOutput(serviceStackName(service), 'AutoScalingGroupName');
const READY_TIMEOUT_SECONDS = 600;

/** The parameter carrying a secret's ARN, named after the variable: JWT_VERIFY_SECRET → JwtVerifySecretArn. */
const secretParam = (variable: string): string => `${pascal(variable.toLowerCase())}Arn`;

export function renderService(inv: Environment, declaration: ServiceDeclaration, _services?: ServiceCatalogue, context: RenderContext = {}): RenderedStack {
  const service = declaration.name;
  const s = settingsOf(inv, service);
  const { min, max, desired } = s.scaling;
  const { events, underWay } = saleEventsAt(inv, service, context.now);
  const secrets = Object.entries(declaration.secrets).map(([variable, secret]) => ({ variable, secret, param: secretParam(variable) }));
  const callsOthers = Object.keys(declaration.calls).length > 0;
  const warmPool = s.scaling.warmPool;
  const t = new StackBuilder(inv, serviceStackName(service),
    `The ${service} service: ${s.instanceType} instances (${min}-${max}, desired ${desired}) behind the load balancer on ${s.pathPrefix}, ` +
    `scaled on CPU ${s.scaling.cpuTarget}% and ${s.scaling.requestsPerTarget} requests per target${events.length ? `, pre-warmed for ${events.length} sale event(s)` : ''}.`,
    service);

  // --- parameters: outputs of earlier stacks, the artifact, secrets the playbook created ---------
  const vpcId = t.param('VpcId', VPC_ID, NETWORK.VpcId);
  const subnets = t.param('PrivateAppSubnetIds', subnetList('Private-app subnets (network stack output PrivateAppSubnetIds)'), NETWORK.PrivateAppSubnetIds);
  const albSg = t.param('LoadBalancerSecurityGroupId', securityGroupId('The load balancer security group (load-balancer stack output)'), LOAD_BALANCER.LoadBalancerSecurityGroupId);
  const targetGroup = t.param('TargetGroupArn', {
    Type: 'String',
    Description: `The ${service} target group (load-balancer stack output ${targetGroupArn(service).output})`,
    AllowedPattern: '^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\\d{12}:targetgroup/.+$',
    ConstraintDescription: 'a target group ARN',
  }, targetGroupArn(service));
  const internalAlbSg = t.param('InternalLoadBalancerSecurityGroupId', securityGroupId('The internal load balancer security group (load-balancer stack output)'), LOAD_BALANCER.InternalLoadBalancerSecurityGroupId);
  const internalTargetGroup = t.param('InternalTargetGroupArn', {
    Type: 'String',
    Description: `The ${service} target group on the internal load balancer (load-balancer stack output ${internalTargetGroupArn(service).output})`,
    AllowedPattern: '^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\\d{12}:targetgroup/.+$',
    ConstraintDescription: 'a target group ARN',
  }, internalTargetGroupArn(service));
  t.param('LoadBalancerFullName', fullName('app/<name>/<id> of the load balancer (load-balancer stack output)', 'app'), LOAD_BALANCER.LoadBalancerFullName);
  t.param('TargetGroupFullName', fullName(`targetgroup/<name>/<id> of ${service} (load-balancer stack output)`, 'targetgroup'), targetGroupFullName(service));
  const dbSg = t.param('DatabaseSecurityGroupId', securityGroupId('The database security group (database stack output)'), DATABASE.DatabaseSecurityGroupId);
  t.param('DbSecretArn', secretArn(`The ${service} database secret (database stack output ${dbSecretArn(service).output})`), dbSecretArn(service));
  for (const x of secrets) {
    t.param(x.param, secretArn(`Secrets Manager secret with ${SHARED_SECRETS[x.secret].holds} (created by the playbook)`), { from: 'secret', secret: x.secret });
  }
  // The shared cache, for a service that declares it: its URL and the security group it opens to us.
  const cacheVariable = declaration.sharedStore?.url;
  const cacheSg = cacheVariable
    ? t.param('CacheSecurityGroupId', securityGroupId('The cache security group (cache stack output)'), CACHE.CacheSecurityGroupId)
    : undefined;
  if (cacheVariable) {
    t.param('CacheUrl', {
      Type: 'String',
      Description: 'rediss://<primary endpoint>:<port> of the shared cache (cache stack output RedisUrl)',
      AllowedPattern: '^rediss://[A-Za-z0-9.-]+:\\d{1,5}$',
      ConstraintDescription: 'a rediss:// URL with host and port',
    }, CACHE.RedisUrl);
  }
  const readReplicas = inv.database.readReplicas > 0;
  if (readReplicas) {
    t.param('DbReadHosts', {
      Type: 'String',
      Description: 'Read replica host names, comma-separated (database stack output ReadReplicaEndpoints)',
      AllowedPattern: '^[a-z0-9.,-]+$',
      ConstraintDescription: 'comma-separated host names',
    }, DATABASE.ReadReplicaEndpoints);
  }
  if (callsOthers) {
    t.param('ServiceClientSecurityGroupId', securityGroupId('Instances that may call the internal load balancer (load-balancer stack output)'), LOAD_BALANCER.ServiceClientSecurityGroupId);
    t.param('ServiceBaseUrl', {
      Type: 'String',
      Description: `Where ${service} reaches ${joinAnd([...new Set(Object.values(declaration.calls))])} (load-balancer stack output ServiceBaseUrl)`,
      AllowedPattern: '^https?://[A-Za-z0-9.-]+$',
      ConstraintDescription: 'an http(s) URL without a path',
    }, LOAD_BALANCER.ServiceBaseUrl);
  }
  const artifact = (field: 'bucket' | 'key' | 'sha256'): Input => ({ from: 'artifact', service, field });
  t.param('ArtifactBucket', ARTIFACT_BUCKET, artifact('bucket'));
  t.param('ArtifactKey', {
    Type: 'String',
    Description: `The ${service} artifact's key in the bucket (content-addressed: a new key rolls the group)`,
    AllowedPattern: '^[A-Za-z0-9][A-Za-z0-9/._-]{0,1023}$',
    ConstraintDescription: 'an S3 key of letters, digits and /._-',
  }, artifact('key'));
  t.param('ArtifactSha256', {
    Type: 'String',
    Description: 'The sha256 of the artifact; instances refuse anything else',
    AllowedPattern: '^[0-9a-f]{64}$',
    ConstraintDescription: '64 lower-case hex digits',
  }, artifact('sha256'));
  const arch = architectureOf(s.instanceType);
  // A pinned AMI id, not "latest": a new id rolls the group, so it moves only when the review says so.
  t.param('ImageId', {
    Type: 'AWS::EC2::Image::Id',
    Description: `Amazon Linux 2023 (${arch}) AMI id, pinned by the playbook: the inventory's ami, the stack's current one, or the latest with -e ami=latest`,
  }, { from: 'image', architecture: arch });

  // --- identity: read this service's secrets and its artifact object, nothing else -------------
  const secretParams = ['DbSecretArn', ...secrets.map((x) => x.param)];
  t.resource('InstanceRole', {
    Type: 'AWS::IAM::Role',
    Properties: {
      Description: `${t.prefixed(service)} instances`,
      AssumeRolePolicyDocument: {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }],
      },
      ManagedPolicyArns: [
        sub('arn:${AWS::Partition}:iam::aws:policy/AmazonSSMManagedInstanceCore'),
        sub('arn:${AWS::Partition}:iam::aws:policy/CloudWatchAgentServerPolicy'),
      ],
      Policies: [
        {
          PolicyName: 'read-own-secrets',
          PolicyDocument: {
            Version: '2012-10-17',
            Statement: [{ Effect: 'Allow', Action: ['secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret'], Resource: secretParams.map((p) => ref(p)) }],
          },
        },
        {
          PolicyName: 'read-own-artifact',
          PolicyDocument: {
            Version: '2012-10-17',
            Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: sub('arn:${AWS::Partition}:s3:::${ArtifactBucket}/${ArtifactKey}') }],
          },
        },
        {
          // The readiness report: which group and launch template version this instance runs,
          // and (with a warm pool) completing the launch hook of its own group only.
          PolicyName: 'report-readiness',
          PolicyDocument: {
            Version: '2012-10-17',
            Statement: [
              { Effect: 'Allow', Action: ['autoscaling:DescribeAutoScalingInstances', 'autoscaling:DescribeAutoScalingGroups'], Resource: '*' },
              ...(warmPool
                ? [{
                    Effect: 'Allow',
                    Action: 'autoscaling:CompleteLifecycleAction',
                    // The group's name is CloudFormation's <stack>-AutoScalingGroup-<suffix>; naming the
                    // group itself would make the role depend on the group that depends on it.
                    Resource: sub(`arn:\${AWS::Partition}:autoscaling:\${AWS::Region}:\${AWS::AccountId}:autoScalingGroup:*:autoScalingGroupName/\${AWS::StackName}-${ASG_ID}-*`),
                  }]
                : []),
            ],
          },
        },
      ],
      Tags: t.tags(),
    },
  });
  t.resource('InstanceProfile', { Type: 'AWS::IAM::InstanceProfile', Properties: { Roles: [ref('InstanceRole')] } });

  // --- network: the load balancers in, HTTPS and MySQL out (calls to other services go out through
  // the service-client group, to the internal load balancer only) ------------------------------
  t.resource('InstanceSecurityGroup', {
    Type: 'AWS::EC2::SecurityGroup',
    Properties: {
      GroupDescription: `${service} instances: port ${s.port} from the load balancers only`,
      VpcId: vpcId,
      SecurityGroupIngress: [
        { IpProtocol: 'tcp', FromPort: s.port, ToPort: s.port, SourceSecurityGroupId: albSg, Description: 'From the load balancer' },
        { IpProtocol: 'tcp', FromPort: s.port, ToPort: s.port, SourceSecurityGroupId: internalAlbSg, Description: 'From the internal load balancer (other services)' },
      ],
      SecurityGroupEgress: [
        { IpProtocol: 'tcp', FromPort: 443, ToPort: 443, CidrIp: '0.0.0.0/0', Description: 'HTTPS: AWS APIs, packages' },
        { IpProtocol: 'tcp', FromPort: 3306, ToPort: 3306, DestinationSecurityGroupId: dbSg, Description: 'MySQL' },
        ...(cacheSg ? [{ IpProtocol: 'tcp', FromPort: CACHE_PORT, ToPort: CACHE_PORT, DestinationSecurityGroupId: cacheSg, Description: 'The shared cache (TLS)' }] : []),
      ],
      Tags: t.tags({ Name: t.prefixed(service) }),
    },
  });
  t.resource('DatabaseIngress', {
    Type: 'AWS::EC2::SecurityGroupIngress',
    Properties: {
      GroupId: dbSg,
      IpProtocol: 'tcp',
      FromPort: 3306,
      ToPort: 3306,
      SourceSecurityGroupId: getAtt('InstanceSecurityGroup', 'GroupId'),
      Description: `MySQL from ${service} instances`,
    },
  });

  if (cacheSg) {
    // The cache admits its port from the instances of the services that declare it, nothing else.
    t.resource('CacheIngress', {
      Type: 'AWS::EC2::SecurityGroupIngress',
      Properties: {
        GroupId: cacheSg,
        IpProtocol: 'tcp',
        FromPort: CACHE_PORT,
        ToPort: CACHE_PORT,
        SourceSecurityGroupId: getAtt('InstanceSecurityGroup', 'GroupId'),
        Description: `The shared cache from ${service} instances`,
      },
    });
  }

  t.resource('ServiceLogGroup', {
    Type: 'AWS::Logs::LogGroup',
    DeletionPolicy: 'Retain',
    UpdateReplacePolicy: 'Retain',
    Properties: { RetentionInDays: inv.monitoring.logRetentionDays, Tags: t.tags() },
  });

  // --- launch template -------------------------------------------------------------------------
  const environment: Array<[string, string]> = [
    ['NODE_ENV', 'production'],
    ['HOST', '0.0.0.0'],
    ['PORT', String(s.port)],
    ['AWS_REGION', '${AWS::Region}'],
    ['DB_SECRET', 'aws:${DbSecretArn}'],
    ['DB_TLS', 'on'],
    ...secrets.map((x): [string, string] => [x.variable, `aws:\${${x.param}}`]),
    ...(readReplicas ? [['DB_READ_HOSTS', '${DbReadHosts}'] as [string, string]] : []),
    ...(declaration.sharedStore ? [[declaration.sharedStore.url, '${CacheUrl}'], [declaration.sharedStore.keyPrefix, `${inv.project}:${inv.environment}:`]] as Array<[string, string]> : []),
    // CloudFront, then the load balancer, append to X-Forwarded-For (environment/proxy-hops.ts).
    ['TRUSTED_PROXY_HOPS', String(trustedProxyHops('aws'))],
    // Services reach each other through the internal load balancer, inside the VPC.
    ...Object.keys(declaration.calls).map((variable): [string, string] => [variable, '${ServiceBaseUrl}']),
    ['SHUTDOWN_TIMEOUT_MS', String(s.drainSeconds * 1000)],
    ...Object.entries(s.environment ?? {}).sort(([a], [b]) => a.localeCompare(b)),
  ];
  const userData = serviceUserData({
    service,
    port: s.port,
    drainSeconds: s.drainSeconds,
    environment,
    signalResource: ASG_ID,
    logGroup: '${ServiceLogGroup}',
    readyTimeoutSeconds: READY_TIMEOUT_SECONDS,
    lifecycleHook: warmPool ? READY_HOOK : undefined,
  });
  t.resource('LaunchTemplate', {
    Type: 'AWS::EC2::LaunchTemplate',
    Properties: {
      LaunchTemplateData: {
        ImageId: ref('ImageId'),
        InstanceType: s.instanceType,
        IamInstanceProfile: { Arn: getAtt('InstanceProfile', 'Arn') },
        SecurityGroupIds: [getAtt('InstanceSecurityGroup', 'GroupId'), ...(callsOthers ? [ref('ServiceClientSecurityGroupId')] : [])],
        MetadataOptions: { HttpEndpoint: 'enabled', HttpTokens: 'required', HttpPutResponseHopLimit: 1 },
        BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { VolumeType: 'gp3', VolumeSize: 20, Encrypted: true, DeleteOnTermination: true } }],
        Monitoring: { Enabled: true },
        ...(warmPool?.state === 'Hibernated' ? { HibernationOptions: { Configured: true } } : {}),
        UserData: base64(sub(userData)),
        TagSpecifications: [
          { ResourceType: 'instance', Tags: t.tags({ Name: t.prefixed(service) }) },
          { ResourceType: 'volume', Tags: t.tags({ Name: t.prefixed(service) }) },
        ],
      },
      TagSpecifications: [{ ResourceType: 'launch-template', Tags: t.tags() }],
    },
  });

  // --- Auto Scaling group ----------------------------------------------------------------------
  const launchTemplate: Value = { LaunchTemplateId: ref('LaunchTemplate'), Version: getAtt('LaunchTemplate', 'LatestVersionNumber') };
  const minInService = Math.min(desired, max - 1);
  t.resource(ASG_ID, {
    Type: 'AWS::AutoScaling::AutoScalingGroup',
    CreationPolicy: {
      ResourceSignal: { Count: underWay ? prewarmOf(underWay, service)!.min : desired, Timeout: 'PT15M' },
      AutoScalingCreationPolicy: { MinSuccessfulInstancesPercent: 100 },
    },
    UpdatePolicy: {
      // New instances come up (and signal ready) before old ones go: capacity never drops below
      // what is serving now, up to max.
      AutoScalingRollingUpdate: {
        MinInstancesInService: minInService,
        MaxBatchSize: Math.max(1, Math.min(max - minInService, Math.ceil(desired / 2))),
        PauseTime: 'PT15M',
        WaitOnResourceSignals: true,
        SuspendProcesses: ['HealthCheck', 'ReplaceUnhealthy', 'AZRebalance', 'AlarmNotification', 'ScheduledActions'],
      },
      // A stack update keeps the group's current size unless the template's numbers changed.
      AutoScalingScheduledAction: { IgnoreUnmodifiedGroupSizeProperties: true },
    },
    Properties: {
      // While an event is under way its floor is the group's MinSize, and DesiredCapacity is left
      // out: a stack update then raises the floor now but never lowers the size the group has
      // grown to (a new group starts at the floor).
      MinSize: String(underWay ? prewarmOf(underWay, service)!.min : min),
      MaxSize: String(max),
      ...(underWay ? {} : { DesiredCapacity: String(desired) }),
      VPCZoneIdentifier: subnets,
      ...(s.spot
        ? {
            MixedInstancesPolicy: {
              InstancesDistribution: {
                OnDemandBaseCapacity: s.spot.onDemandBase,
                OnDemandPercentageAboveBaseCapacity: s.spot.onDemandPercentageAboveBase,
                SpotAllocationStrategy: 'price-capacity-optimized',
              },
              LaunchTemplate: {
                LaunchTemplateSpecification: launchTemplate,
                Overrides: s.spot.instanceTypes.map((type) => ({ InstanceType: type })),
              },
            },
            CapacityRebalance: true,
          }
        : { LaunchTemplate: launchTemplate }),
      TargetGroupARNs: [targetGroup, internalTargetGroup],
      ...(warmPool
        ? {
            // A warm pool's instance is stopped only once it reported ready (user-data runs once,
            // at its first boot); no report within the timeout abandons (terminates) it.
            LifecycleHookSpecificationList: [{
              LifecycleHookName: READY_HOOK,
              LifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING',
              HeartbeatTimeout: READY_TIMEOUT_SECONDS + 300,
              DefaultResult: 'ABANDON',
            }],
          }
        : {}),
      HealthCheckType: 'ELB',
      HealthCheckGracePeriod: s.healthCheckGracePeriod,
      DefaultInstanceWarmup: s.scaling.warmupSeconds,
      Cooldown: String(s.scaling.cooldownSeconds),
      MetricsCollection: [{ Granularity: '1Minute' }],
      Tags: t.asgTags({ Name: t.prefixed(service) }),
    },
  });

  if (warmPool) {
    // Pre-initialised instances: a scale-out takes them first and they start the service without
    // installing anything. Rolling updates replace in-service instances only; one prepared with an
    // older launch template abandons itself when it leaves the pool (lib/user-data.ts).
    t.resource('WarmPool', {
      Type: 'AWS::AutoScaling::WarmPool',
      Properties: {
        AutoScalingGroupName: ref(ASG_ID),
        MinSize: warmPool.minSize,
        PoolState: warmPool.state,
        ...(warmPool.maxPrepared !== undefined ? { MaxGroupPreparedCapacity: warmPool.maxPrepared } : {}),
        InstanceReusePolicy: { ReuseOnScaleIn: false },
      },
    });
  }

  t.resource('CpuTargetTracking', {
    Type: 'AWS::AutoScaling::ScalingPolicy',
    Properties: {
      AutoScalingGroupName: ref(ASG_ID),
      PolicyType: 'TargetTrackingScaling',
      EstimatedInstanceWarmup: s.scaling.warmupSeconds,
      TargetTrackingConfiguration: {
        PredefinedMetricSpecification: { PredefinedMetricType: 'ASGAverageCPUUtilization' },
        TargetValue: s.scaling.cpuTarget,
      },
    },
  });
  t.resource('RequestCountTargetTracking', {
    Type: 'AWS::AutoScaling::ScalingPolicy',
    Properties: {
      AutoScalingGroupName: ref(ASG_ID),
      PolicyType: 'TargetTrackingScaling',
      EstimatedInstanceWarmup: s.scaling.warmupSeconds,
      TargetTrackingConfiguration: {
        PredefinedMetricSpecification: {
          PredefinedMetricType: 'ALBRequestCountPerTarget',
          ResourceLabel: sub('${LoadBalancerFullName}/${TargetGroupFullName}'),
        },
        TargetValue: s.scaling.requestsPerTarget,
      },
    },
  });

  // Sale events: raise the floor before the doors open, put it back when they close; target
  // tracking does the rest in between. Only what can still happen at `now` is rendered: Auto
  // Scaling refuses a scheduled action in the past.
  for (const event of events) {
    const p = prewarmOf(event, service)!;
    const id = pascal(event.name);
    if (event !== underWay) {
      t.resource(`Prewarm${id}`, {
        Type: 'AWS::AutoScaling::ScheduledAction',
        Properties: { AutoScalingGroupName: ref(ASG_ID), StartTime: isoSeconds(new Date(prewarmTime(event)).toISOString()), MinSize: p.min, DesiredCapacity: p.desired },
      });
    }
    t.resource(`Restore${id}`, {
      Type: 'AWS::AutoScaling::ScheduledAction',
      Properties: { AutoScalingGroupName: ref(ASG_ID), StartTime: isoSeconds(event.end), MinSize: min },
    });
  }

  t.output('AutoScalingGroupName', `The ${service} Auto Scaling group`, ref(ASG_ID));
  t.output('InstanceSecurityGroupId', `The ${service} instance security group`, getAtt('InstanceSecurityGroup', 'GroupId'));
  t.output('InstanceRoleArn', `The ${service} instance role`, getAtt('InstanceRole', 'Arn'));
  t.output('LogGroupName', `Where ${service} logs go`, ref('ServiceLogGroup'));
  t.output('ArtifactSha256', 'The sha256 of the artifact this stack runs', ref('ArtifactSha256'));
  return t.build();
}

/**
 * The sale events that pre-warm this service and are not over at `now`, and the one under way
 * (its pre-warm time has passed; the inventory rule against overlapping windows leaves at most
 * one). Without `now`, every event is rendered as written.
 */
function saleEventsAt(inv: Environment, service: string, now: Date | undefined): { events: SaleEvent[]; underWay: SaleEvent | undefined } {
  const mine = inv.saleEvents.filter((e) => prewarmOf(e, service));
  if (!now) return { events: mine, underWay: undefined };
  const events = mine.filter((e) => saleEventPhase(e, now) !== 'over');
  return { events, underWay: events.find((e) => saleEventPhase(e, now) === 'under-way') };
}

function isoSeconds(iso: string): string {
  return new Date(Date.parse(iso)).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** `a`, `a and b`, `a, b and c`. */
function joinAnd(items: string[]): string {
  return items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}
