// What the data tier's stacks (database, cache) share: a security group that starts no connections.
// Its ingress comes from each service stack that uses the store, nothing else.
import type { StackBuilder } from './stack.js';
import type { Expr } from './template.js';

/** A security group with no ingress of its own and an egress rule that matches nothing (replacing the default allow-all). */
export function noEgressSecurityGroup(t: StackBuilder, logicalId: string, opts: { description: string; vpcId: Expr; name: string }): string {
  return t.resource(logicalId, {
    Type: 'AWS::EC2::SecurityGroup',
    Properties: {
      GroupDescription: opts.description,
      VpcId: opts.vpcId,
      SecurityGroupEgress: [{ IpProtocol: 'icmp', FromPort: 252, ToPort: 86, CidrIp: '255.255.255.255/32', Description: 'No outbound traffic' }],
      Tags: t.tags({ Name: t.prefixed(opts.name) }),
    },
  });
}
