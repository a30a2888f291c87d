// monitoring: an SNS topic for alarms, the alarms a sale day needs (load balancer 5xx rate, p99
// latency and unhealthy hosts per service, RDS CPU, free storage, connections and replica lag, an
// Auto Scaling group pinned at its maximum) and one dashboard with the same signals.
import { SHOP_SERVICES, type Environment, type ServiceCatalogue } from '../environment/index.js';
import { fromOutput, fullName, pascal, StackBuilder, type RenderedStack } from './lib/stack.js';
import { ref, sub, type Value } from './lib/template.js';

const GIB = 1024 ** 3;

export function renderMonitoring(inv: Environment, services: ServiceCatalogue = SHOP_SERVICES): RenderedStack {
  const th = inv.monitoring.thresholds;
  const replicas = Array.from({ length: inv.database.readReplicas }, (_, i) => `ReadReplica${i + 1}Identifier`);
  const t = new StackBuilder(inv, 'monitoring',
    `Alarms to an SNS topic${inv.monitoring.alarmEmail ? ' (email subscription)' : ''} for the load balancer, every service, the database and its ${replicas.length} replica(s), and a sale-day dashboard.`);

  t.param('LoadBalancerFullName', fullName('app/<name>/<id> (load-balancer stack output)', 'app'), fromOutput('load-balancer', 'LoadBalancerFullName'));
  for (const { name: service } of services) {
    const name = pascal(service);
    t.param(`${name}TargetGroupFullName`, fullName(`targetgroup/<name>/<id> of ${service} (load-balancer stack output)`, 'targetgroup'), fromOutput('load-balancer', `${name}TargetGroupFullName`));
    t.param(`${name}AutoScalingGroupName`, {
      Type: 'String',
      Description: `The ${service} Auto Scaling group (service-${service} stack output AutoScalingGroupName)`,
      AllowedPattern: '^[A-Za-z0-9._-]{1,255}$',
      ConstraintDescription: 'an Auto Scaling group name',
    }, fromOutput(`service-${service}`, 'AutoScalingGroupName'));
  }
  const dbIdentifier = {
    Type: 'String',
    AllowedPattern: '^[a-zA-Z][a-zA-Z0-9-]{0,62}$',
    ConstraintDescription: 'a DB instance identifier',
  };
  t.param('DbInstanceIdentifier', { ...dbIdentifier, Description: 'The primary DB instance (database stack output DbInstanceIdentifier)' }, fromOutput('database', 'DbInstanceIdentifier'));
  replicas.forEach((p, i) => t.param(p, { ...dbIdentifier, Description: `Read replica ${i + 1} (database stack output ${p})` }, fromOutput('database', p)));

  t.resource('AlarmTopic', {
    Type: 'AWS::SNS::Topic',
    Properties: { DisplayName: `${t.prefixed('alarms')}`, Tags: t.tags() },
  });
  if (inv.monitoring.alarmEmail) {
    t.resource('AlarmEmailSubscription', {
      Type: 'AWS::SNS::Subscription',
      Properties: { TopicArn: ref('AlarmTopic'), Protocol: 'email', Endpoint: inv.monitoring.alarmEmail },
    });
  }

  const alarm = (id: string, description: string, props: { [key: string]: Value }) => {
    t.resource(id, {
      Type: 'AWS::CloudWatch::Alarm',
      Properties: {
        AlarmName: t.prefixed(kebab(id)),
        AlarmDescription: description,
        ActionsEnabled: true,
        AlarmActions: [ref('AlarmTopic')],
        OKActions: [ref('AlarmTopic')],
        TreatMissingData: 'notBreaching',
        ...props,
        Tags: t.tags(),
      },
    });
  };
  const stat = (id: string, namespace: string, metric: string, dimensions: Array<[string, Value]>, statistic: string): Value => ({
    Id: id,
    ReturnData: false,
    MetricStat: {
      Metric: { Namespace: namespace, MetricName: metric, Dimensions: dimensions.map(([Name, Value]) => ({ Name, Value })) },
      Period: 60,
      Stat: statistic,
    },
  });
  const lb: Array<[string, Value]> = [['LoadBalancer', ref('LoadBalancerFullName')]];

  alarm('LoadBalancer5xxRate', `More than ${th.alb5xxPercent}% of requests answered 5xx (load balancer or targets) for 3 of 5 minutes`, {
    Metrics: [
      stat('elb5xx', 'AWS/ApplicationELB', 'HTTPCode_ELB_5XX_Count', lb, 'Sum'),
      stat('target5xx', 'AWS/ApplicationELB', 'HTTPCode_Target_5XX_Count', lb, 'Sum'),
      stat('requests', 'AWS/ApplicationELB', 'RequestCount', lb, 'Sum'),
      { Id: 'rate', Label: '5xx %', ReturnData: true, Expression: 'IF(requests > 0, 100 * (FILL(elb5xx, 0) + FILL(target5xx, 0)) / requests, 0)' },
    ],
    ComparisonOperator: 'GreaterThanThreshold',
    Threshold: th.alb5xxPercent,
    EvaluationPeriods: 5,
    DatapointsToAlarm: 3,
  });

  for (const { name: service } of services) {
    const name = pascal(service);
    const tg: Array<[string, Value]> = [['LoadBalancer', ref('LoadBalancerFullName')], ['TargetGroup', ref(`${name}TargetGroupFullName`)]];
    alarm(`${name}P99Latency`, `${service}: p99 target response time above ${th.targetP99Seconds} s for 3 of 5 minutes`, {
      Namespace: 'AWS/ApplicationELB',
      MetricName: 'TargetResponseTime',
      Dimensions: tg.map(([Name, Value]) => ({ Name, Value })),
      ExtendedStatistic: 'p99',
      Period: 60,
      EvaluationPeriods: 5,
      DatapointsToAlarm: 3,
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: th.targetP99Seconds,
    });
    alarm(`${name}UnhealthyHosts`, `${service}: at least one target failing /readyz for 3 minutes`, {
      Namespace: 'AWS/ApplicationELB',
      MetricName: 'UnHealthyHostCount',
      Dimensions: tg.map(([Name, Value]) => ({ Name, Value })),
      Statistic: 'Maximum',
      Period: 60,
      EvaluationPeriods: 3,
      DatapointsToAlarm: 3,
      ComparisonOperator: 'GreaterThanThreshold',
      Threshold: 0,
    });
    const asg: Array<[string, Value]> = [['AutoScalingGroupName', ref(`${name}AutoScalingGroupName`)]];
    alarm(`${name}AtMaxCapacity`, `${service}: the Auto Scaling group has been at its maximum for 5 minutes; it cannot scale further`, {
      Metrics: [
        stat('inService', 'AWS/AutoScaling', 'GroupInServiceInstances', asg, 'Maximum'),
        stat('maxSize', 'AWS/AutoScaling', 'GroupMaxSize', asg, 'Maximum'),
        { Id: 'atMax', Label: 'at max', ReturnData: true, Expression: 'IF(inService >= maxSize, 1, 0)' },
      ],
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Threshold: 1,
      EvaluationPeriods: 5,
      DatapointsToAlarm: 5,
    });
  }

  const rds = (id: string, description: string, metric: string, statistic: string, comparison: string, threshold: number, instance = 'DbInstanceIdentifier') =>
    alarm(id, description, {
      Namespace: 'AWS/RDS',
      MetricName: metric,
      Dimensions: [{ Name: 'DBInstanceIdentifier', Value: ref(instance) }],
      Statistic: statistic,
      Period: 60,
      EvaluationPeriods: 5,
      DatapointsToAlarm: 3,
      ComparisonOperator: comparison,
      Threshold: threshold,
    });
  rds('DatabaseCpu', `Database CPU above ${th.rdsCpuPercent}% for 3 of 5 minutes`, 'CPUUtilization', 'Average', 'GreaterThanThreshold', th.rdsCpuPercent);
  rds('DatabaseFreeStorage', `Database free storage below ${th.rdsFreeStorageGiB} GiB`, 'FreeStorageSpace', 'Minimum', 'LessThanThreshold', th.rdsFreeStorageGiB * GIB);
  rds('DatabaseConnections', `More than ${th.rdsConnections} database connections`, 'DatabaseConnections', 'Maximum', 'GreaterThanThreshold', th.rdsConnections);
  replicas.forEach((p, i) =>
    rds(`ReadReplica${i + 1}Lag`, `Read replica ${i + 1} more than ${th.replicaLagSeconds} s behind the primary`, 'ReplicaLag', 'Maximum', 'GreaterThanThreshold', th.replicaLagSeconds, p));

  t.resource('Dashboard', {
    Type: 'AWS::CloudWatch::Dashboard',
    Properties: { DashboardName: t.prefixed('sale-day'), DashboardBody: sub(JSON.stringify(dashboard(services.map((d) => pascal(d.name)), replicas))), Tags: t.tags() },
  });

  t.output('AlarmTopicArn', 'Alarms publish here', ref('AlarmTopic'));
  t.output('DashboardName', 'The sale-day dashboard', ref('Dashboard'));
  t.output('DashboardUrl', 'The sale-day dashboard in the console',
    sub('https://${AWS::Region}.console.aws.amazon.com/cloudwatch/home?region=${AWS::Region}#dashboards:name=${Dashboard}'));
  return t.build();
}

/** The dashboard body; `${Param}` placeholders are filled by Fn::Sub. */
function dashboard(services: string[], replicas: string[]): object {
  const widget = (x: number, y: number, title: string, metrics: unknown[][], extra: object = {}) => ({
    type: 'metric',
    x,
    y,
    width: 12,
    height: 6,
    properties: { title, region: '${AWS::Region}', view: 'timeSeries', period: 60, metrics, ...extra },
  });
  const lb = ['LoadBalancer', '${LoadBalancerFullName}'];
  return {
    widgets: [
      widget(0, 0, 'Requests and 5xx', [
        ['AWS/ApplicationELB', 'RequestCount', ...lb, { stat: 'Sum' }],
        ['AWS/ApplicationELB', 'HTTPCode_Target_5XX_Count', ...lb, { stat: 'Sum', yAxis: 'right' }],
        ['AWS/ApplicationELB', 'HTTPCode_ELB_5XX_Count', ...lb, { stat: 'Sum', yAxis: 'right' }],
      ]),
      widget(12, 0, 'p99 latency per service (s)', services.map((s) => [
        'AWS/ApplicationELB', 'TargetResponseTime', ...lb, 'TargetGroup', `\${${s}TargetGroupFullName}`, { stat: 'p99', label: s },
      ])),
      widget(0, 6, 'Instances in service / desired', services.flatMap((s) => [
        ['AWS/AutoScaling', 'GroupInServiceInstances', 'AutoScalingGroupName', `\${${s}AutoScalingGroupName}`, { stat: 'Maximum', label: `${s} in service` }],
        ['AWS/AutoScaling', 'GroupDesiredCapacity', 'AutoScalingGroupName', `\${${s}AutoScalingGroupName}`, { stat: 'Maximum', label: `${s} desired` }],
      ])),
      widget(12, 6, 'CPU per service (%)', services.map((s) => [
        'AWS/EC2', 'CPUUtilization', 'AutoScalingGroupName', `\${${s}AutoScalingGroupName}`, { stat: 'Average', label: s },
      ])),
      widget(0, 12, 'Database', [
        ['AWS/RDS', 'CPUUtilization', 'DBInstanceIdentifier', '${DbInstanceIdentifier}', { stat: 'Average' }],
        ['AWS/RDS', 'DatabaseConnections', 'DBInstanceIdentifier', '${DbInstanceIdentifier}', { stat: 'Maximum', yAxis: 'right' }],
      ]),
      widget(12, 12, 'Replica lag (s)', replicas.length
        ? replicas.map((p) => ['AWS/RDS', 'ReplicaLag', 'DBInstanceIdentifier', `\${${p}}`, { stat: 'Maximum' }])
        : [['AWS/RDS', 'FreeStorageSpace', 'DBInstanceIdentifier', '${DbInstanceIdentifier}', { stat: 'Minimum', label: 'free storage (bytes): no replicas' }]]),
    ],
  };
}

function kebab(id: string): string {
  return id.replace(/([a-z])([0-9])/g, '$1-$2').replace(/([a-z0-9])([A-Z])/g, '$1-$2').replace(/([A-Z])([A-Z][a-z])/g, '$1-$2').toLowerCase();
}
