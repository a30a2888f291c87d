// EC2 user-data for a service instance (Amazon Linux 2023): install Node.js, fetch the service
// artifact from S3 by key, refuse it unless its sha256 matches, write a systemd unit with the
// service's environment (secret references only, never values), ship its log to CloudWatch, start
// it, and cfn-signal the Auto Scaling group once /readyz answers.
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
}

export const NODE_BINARY = '/usr/bin/node-20';

export function serviceUserData(o: UserDataOptions): string {
  const unit = `saleday-${o.service}`;
  const logFile = `/var/log/saleday/${o.service}.log`;
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
# saleday ${o.service}: instance bootstrap (rendered by cloudformation/lib/user-data.ts).
set -Eeuo pipefail

readonly SERVICE=${o.service}
readonly PORT=${o.port}
readonly STACK='\${AWS::StackName}'
readonly REGION='\${AWS::Region}'
readonly ARTIFACT_BUCKET='\${ArtifactBucket}'
readonly ARTIFACT_KEY='\${ArtifactKey}'
readonly ARTIFACT_SHA256='\${ArtifactSha256}'
readonly APP_ROOT="/opt/saleday/$SERVICE"
readonly RELEASE="$APP_ROOT/releases/$ARTIFACT_SHA256"

# Tell CloudFormation how this instance ended: 0 ready, 1 failed (any failing command below).
signal() {
  local cfn_signal
  cfn_signal=$(command -v cfn-signal || echo /opt/aws/bin/cfn-signal)
  "$cfn_signal" --exit-code "$1" --stack "$STACK" --resource ${o.signalResource} --region "$REGION" || true
}
trap 'signal 1' ERR

# Node.js 20 (namespaced on AL2023: /usr/bin/node-20), cfn-signal, the CloudWatch agent, logrotate.
dnf install -y -q nodejs20 aws-cfn-bootstrap amazon-cloudwatch-agent logrotate
id -u saleday >/dev/null 2>&1 || useradd --system --no-create-home --shell /sbin/nologin saleday

# The artifact: fetched by key, accepted only with the expected sha256, unpacked owned by root.
download=$(mktemp -d)
aws s3 cp --only-show-errors --region "$REGION" "s3://$ARTIFACT_BUCKET/$ARTIFACT_KEY" "$download/artifact.tar.gz"
if ! echo "$ARTIFACT_SHA256  $download/artifact.tar.gz" | sha256sum --check --strict --status; then
  echo "artifact s3://$ARTIFACT_BUCKET/$ARTIFACT_KEY does not match sha256 $ARTIFACT_SHA256" >&2
  trap - ERR
  signal 1
  exit 1
fi
mkdir -p "$RELEASE"
tar -xzf "$download/artifact.tar.gz" -C "$RELEASE" --no-same-owner --no-same-permissions
rm -rf "$download"
ln -sfn "$RELEASE" "$APP_ROOT/current"

# The service's environment: settings and secret references (aws:<arn>), never secret values.
install -d -m 0755 /etc/saleday
cat > /etc/saleday/${o.service}.env <<'ENV'
${o.environment.map(([k, v]) => `${k}=${v}`).join('\n')}
ENV
chmod 0644 /etc/saleday/${o.service}.env

install -d -m 0750 /var/log/saleday
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

systemctl daemon-reload
systemctl enable --now ${unit}.service

# In service once /readyz answers (database reachable, migrations done): then signal success.
for _ in $(seq 1 ${tries}); do
  if curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$PORT/readyz"; then
    trap - ERR
    signal 0
    exit 0
  fi
  sleep 2
done
echo "${unit} did not answer /readyz within ${o.readyTimeoutSeconds} s" >&2
trap - ERR
signal 1
exit 1
`;
}
