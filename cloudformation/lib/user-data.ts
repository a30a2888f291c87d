// EC2 user-data for a service instance (Amazon Linux 2023). At the instance's first boot (cloud-init
// runs user-data once per instance): install Node.js and the agents, fetch the service artifact
// from S3 by key, refuse it unless its sha256 matches, write a systemd unit with the service's
// environment (secret references only, never values), ship its log to CloudWatch, enable and start
// it. Readiness is a unit of its own, saleday-<service>-ready, enabled at first boot: it waits for
// /readyz, completes the launch lifecycle hook (a warm pool's instance is stopped only once ready),
// and cfn-signals the Auto Scaling group when the instance goes in service. An instance leaving
// the warm pool boots with everything in place: systemd starts the service and the ready unit,
// nothing is installed. Boot timestamps (instance start → packages → artifact → service → /readyz)
// go to the service log, which the CloudWatch agent ships.
//
// The text is a Fn::Sub template: `${Name}` are CloudFormation parameters and pseudo parameters.
// The bash itself never uses `${...}` (plain "$VAR" everywhere), so nothing needs escaping; the
// spec check fails any `${...}` that is not a known parameter.
import { programPath } from '../../environment/index.js';

export interface UserDataOptions {
  service: string;
  port: number;
  /** How long systemd lets SIGTERM drain before it kills the process. */
  drainSeconds: number;
  /** Environment of the service, in order; values may contain `${Param}` references. */
  environment: ReadonlyArray<readonly [string, string]>;
  /** Logical id of the Auto Scaling group to signal. */
  signalResource: string;
  /** Fn::Sub reference to the log group name, e.g. `${ServiceLogGroup}`. */
  logGroup: string;
  /** Seconds to wait for /readyz before signalling failure. */
  readyTimeoutSeconds: number;
  /** The launch lifecycle hook the instance completes once ready (groups with a warm pool). */
  lifecycleHook?: string | undefined;
}

/**
 * The Node.js major the instances run: 22 (LTS, supported to April 2027). Amazon Linux 2023
 * packages Node.js 20, 22 and 24 namespaced (nodejs22 → /usr/bin/node-22), so the unit names the
 * versioned binary and an `alternatives` switch cannot change it. Not 24, though AL2023 has it:
 * restify 11 loads spdy → http-deceiver, which calls process.binding('http_parser'), gone in
 * Node 24, so no service starts there (the CI step on 24 shows it). Node 20 reached end of life in
 * April 2026. CI runs the services' suites on this major (.ci/run, .github/workflows/ci.yml);
 * Lambda functions use the same (nodejs22.x).
 */
export const NODE_MAJOR = 22;
export const NODE_PACKAGE = `nodejs${NODE_MAJOR}`;
export const NODE_BINARY = `/usr/bin/node-${NODE_MAJOR}`;

export function serviceUserData(o: UserDataOptions): string {
  const unit = `saleday-${o.service}`;
  const logFile = `/var/log/saleday/${o.service}.log`;
  const ready = `/usr/local/sbin/${unit}-ready`;
  const agentConfig = JSON.stringify({
    agent: { metrics_collection_interval: 60 },
    logs: {
      logs_collected: {
        files: { collect_list: [{ file_path: logFile, log_group_name: o.logGroup, log_stream_name: `{instance_id}/${o.service}` }] },
      },
    },
    metrics: {
      namespace: 'saleday/instances',
      metrics_collected: { mem: { measurement: ['mem_used_percent'] }, disk: { measurement: ['used_percent'], resources: ['/'] } },
    },
  }, null, 2);
  const tries = Math.ceil(o.readyTimeoutSeconds / 2);

  return `#!/bin/bash
# saleday ${o.service}: instance bootstrap at first boot (rendered by cloudformation/lib/user-data.ts).
set -Eeuo pipefail

readonly SERVICE=${o.service}
readonly REGION='\${AWS::Region}'
readonly ARTIFACT_BUCKET='\${ArtifactBucket}'
readonly ARTIFACT_KEY='\${ArtifactKey}'
readonly ARTIFACT_SHA256='\${ArtifactSha256}'
readonly APP_ROOT="/opt/saleday/$SERVICE"
readonly RELEASE="$APP_ROOT/releases/$ARTIFACT_SHA256"
readonly READY=${ready}

# The readiness report, at this boot and every later one (an instance leaving the warm pool):
# boot timestamps, /readyz, the launch lifecycle hook, cfn-signal.
install -d -m 0750 /var/log/saleday
install -d -m 0755 /var/lib/saleday
cat > "$READY" <<'READY'
${readyScript(o, logFile, tries)}READY
chmod 0755 "$READY"
"$READY" mark bootstrap-start

# Anything failing below: the instance reports failure (lifecycle hook abandoned, cfn-signal 1).
trap '"$READY" fail' ERR

# Node.js ${NODE_MAJOR} (namespaced on AL2023: ${NODE_BINARY}), cfn-signal, the CloudWatch agent, logrotate.
dnf install -y -q ${NODE_PACKAGE} aws-cfn-bootstrap amazon-cloudwatch-agent logrotate
id -u saleday >/dev/null 2>&1 || useradd --system --no-create-home --shell /sbin/nologin saleday
"$READY" mark packages

# The artifact: fetched by key, accepted only with the expected sha256, unpacked owned by root.
download=$(mktemp -d)
aws s3 cp --only-show-errors --region "$REGION" "s3://$ARTIFACT_BUCKET/$ARTIFACT_KEY" "$download/artifact.tar.gz"
if ! echo "$ARTIFACT_SHA256  $download/artifact.tar.gz" | sha256sum --check --strict --status; then
  echo "artifact s3://$ARTIFACT_BUCKET/$ARTIFACT_KEY does not match sha256 $ARTIFACT_SHA256" >&2
  trap - ERR
  "$READY" fail
  exit 1
fi
mkdir -p "$RELEASE"
tar -xzf "$download/artifact.tar.gz" -C "$RELEASE" --no-same-owner --no-same-permissions
rm -rf "$download"
ln -sfn "$RELEASE" "$APP_ROOT/current"
"$READY" mark artifact

# The service's environment: settings and secret references (aws:<arn>), never secret values.
install -d -m 0755 /etc/saleday
cat > /etc/saleday/${o.service}.env <<'ENV'
${o.environment.map(([k, v]) => `${k}=${v}`).join('\n')}
ENV
chmod 0644 /etc/saleday/${o.service}.env

cat > /etc/systemd/system/${unit}.service <<'UNIT'
[Unit]
Description=saleday ${o.service} service
Wants=network-online.target
After=network-online.target

[Service]
Type=simple
User=saleday
Group=saleday
WorkingDirectory=/opt/saleday/${o.service}/current
EnvironmentFile=/etc/saleday/${o.service}.env
ExecStart=${NODE_BINARY} ${programPath(o.service)}
Restart=on-failure
RestartSec=2
KillSignal=SIGTERM
TimeoutStopSec=${o.drainSeconds + 10}
LimitNOFILE=65536
NoNewPrivileges=yes
ProtectSystem=strict
ProtectHome=yes
PrivateTmp=yes
StandardOutput=append:${logFile}
StandardError=append:${logFile}

[Install]
WantedBy=multi-user.target
UNIT

# Every later boot: report readiness once the service answers (installs nothing).
cat > /etc/systemd/system/${unit}-ready.service <<'UNIT'
[Unit]
Description=saleday ${o.service}: boot timestamps, readiness, lifecycle hook and cfn-signal
Wants=network-online.target ${unit}.service
After=network-online.target ${unit}.service

[Service]
Type=simple
ExecStart=${ready} report

[Install]
WantedBy=multi-user.target
UNIT

cat > /etc/logrotate.d/saleday <<'ROTATE'
/var/log/saleday/*.log {
  daily
  rotate 7
  compress
  missingok
  notifempty
  copytruncate
}
ROTATE

cat > /opt/aws/amazon-cloudwatch-agent/etc/amazon-cloudwatch-agent.json <<'AGENT'
${agentConfig}
AGENT
/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl -a fetch-config -m ec2 -s \\
  -c file:/opt/aws/amazon-cloudwatch-agent/etc/amazon-cloudwatch-agent.json
systemctl enable amazon-cloudwatch-agent.service

systemctl daemon-reload
systemctl enable ${unit}.service ${unit}-ready.service
systemctl start ${unit}.service
"$READY" mark service-started
trap - ERR
systemctl start --no-block ${unit}-ready.service
`;
}

/**
 * The readiness report (bash), written by the bootstrap to /usr/local/sbin/saleday-<service>-ready.
 * `mark <step>` appends a boot timestamp; `report` waits for /readyz, then follows the instance's
 * target lifecycle state: a warm-pool instance completes the hook and is stopped (or kept) in the
 * pool; an instance going in service first checks it runs the group's launch template version
 * (a warm-pool instance prepared before a rolling update does not: it is abandoned and replaced),
 * then completes the hook and cfn-signals. `fail` reports failure at once.
 */
function readyScript(o: UserDataOptions, logFile: string, tries: number): string {
  const hook = o.lifecycleHook ?? '';
  return `#!/bin/bash
# saleday ${o.service}: boot timestamps and readiness (written by the instance bootstrap).
set -uo pipefail
readonly SERVICE=${o.service}
readonly PORT=${o.port}
readonly STACK='\${AWS::StackName}'
readonly REGION='\${AWS::Region}'
readonly HOOK='${hook}'
readonly LOG_FILE=${logFile}
readonly FIRST_BOOT_DONE=/var/lib/saleday/$SERVICE.first-boot-done

# "<UTC time> saleday-boot <service> <first-boot|warm-start> <step> <seconds since the instance started>"
mark() {
  local path=first-boot uptime
  [ -e "$FIRST_BOOT_DONE" ] && path=warm-start
  uptime=$(cut -d' ' -f1 /proc/uptime)
  printf '%s saleday-boot %s %s %s %ss\\n' "$(date -u +%Y-%m-%dT%H:%M:%S.%3NZ)" "$SERVICE" "$path" "$1" "$uptime" >> "$LOG_FILE"
}

imds() {
  local token
  token=$(curl -fsS -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' http://169.254.169.254/latest/api/token) || return 1
  curl -fsS -H "X-aws-ec2-metadata-token: $token" "http://169.254.169.254/latest/meta-data/$1"
}

# Where Auto Scaling is taking this instance: InService, or Warmed:Stopped/Hibernated/Running.
target_state() { imds autoscaling/target-lifecycle-state || echo InService; }

group_of() {
  aws autoscaling describe-auto-scaling-instances --region "$REGION" --instance-ids "$1" \\
    --query 'AutoScalingInstances[0].[AutoScalingGroupName,LaunchTemplate.Version]' --output text
}

complete_hook() {
  [ -n "$HOOK" ] || return 0
  local id group
  id=$(imds instance-id) || return 0
  read -r group _ <<< "$(group_of "$id")" || return 0
  aws autoscaling complete-lifecycle-action --region "$REGION" --lifecycle-hook-name "$HOOK" \\
    --auto-scaling-group-name "$group" --instance-id "$id" --lifecycle-action-result "$1" >/dev/null 2>&1 || true
}

signal() {
  local cfn_signal
  cfn_signal=$(command -v cfn-signal || echo /opt/aws/bin/cfn-signal)
  "$cfn_signal" --exit-code "$1" --stack "$STACK" --resource ${o.signalResource} --region "$REGION" >/dev/null 2>&1 || true
}

fail() {
  mark failed
  complete_hook ABANDON
  signal 1
  exit 1
}

# An instance from the warm pool runs the release it was prepared with: it goes in service only
# if that is still the group's launch template version.
current_release() {
  local id group mine latest
  id=$(imds instance-id) || return 0
  read -r group mine <<< "$(group_of "$id")" || return 0
  latest=$(aws autoscaling describe-auto-scaling-groups --region "$REGION" --auto-scaling-group-names "$group" \\
    --query 'AutoScalingGroups[0].LaunchTemplate.Version' --output text) || return 0
  [ "$mine" = "$latest" ] || { echo "launch template version $mine, the group runs $latest: replaced" >> "$LOG_FILE"; return 1; }
}

report() {
  [ -e "$FIRST_BOOT_DONE" ] && mark instance-start
  local ready=no
  for _ in $(seq 1 ${tries}); do
    if curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$PORT/readyz"; then ready=yes; break; fi
    sleep 2
  done
  [ "$ready" = yes ] || { echo "saleday-$SERVICE did not answer /readyz within ${o.readyTimeoutSeconds} s" >> "$LOG_FILE"; fail; }
  mark readyz
  # Follow the target state until the instance goes in service (a running warm pool waits here).
  local reported=''
  while :; do
    local state
    state=$(target_state)
    if [ "$state" = InService ]; then
      if [ -e "$FIRST_BOOT_DONE" ] && ! current_release; then
        complete_hook ABANDON
        exit 0
      fi
      complete_hook CONTINUE
      signal 0
      mark in-service
      touch "$FIRST_BOOT_DONE"
      exit 0
    fi
    if [ "$state" != "$reported" ]; then
      complete_hook CONTINUE
      mark "$state"
      touch "$FIRST_BOOT_DONE"
      reported=$state
    fi
    sleep 5
  done
}

[ $# -gt 0 ] || set -- usage
case "$1" in
  mark) mark "$2" ;;
  report) report ;;
  fail) fail ;;
  *) echo "usage: $0 mark <step> | report | fail" >&2; exit 2 ;;
esac
`;
}
