// Acceptance 1: every rendered resource against the CloudFormation resource specification from npm
// (@aws-cdk/aws-service-spec, loaded once for this file), plus references, parameters, tags and
// the stack wiring; and proof that the checker catches each kind of mistake.
import t from 'tap';
import { checkAgainstSpec, loadResourceSpec } from '../../cloudformation/lib/spec-check.js';
import { checkWiring } from '../../cloudformation/lib/wiring.js';
import { STATEFUL_TYPES } from '../../cloudformation/lib/security-rules.js';
import type { Template } from '../../cloudformation/lib/template.js';
import { formatFinding } from '../../cloudformation/lib/findings.js';
import { copy, ENVIRONMENTS, rendered, type Rendered } from './fixtures.js';

const spec = await loadResourceSpec();
const envs = new Map<string, Rendered>();
for (const env of ENVIRONMENTS) envs.set(env, await rendered(env));

t.test('every stack of every environment matches the resource specification', (t) => {
  for (const [env, r] of envs) {
    t.equal(r.stacks.length, 12, `${env}: twelve stacks (network, database, cache, bootstrap, load-balancer, four services, static-site, monitoring, loadgen)`);
    for (const s of r.stacks) {
      const findings = checkAgainstSpec(s.template, spec, `${env}/${s.name}`);
      t.same(findings.map(formatFinding), [], `${env}/${s.name}: no findings`);
      for (const [id, resource] of Object.entries(s.template.Resources)) {
        t.equal(spec.lookup('resource', 'cloudFormationType', 'equals', resource.Type).length, 1, `${env}/${s.name} ${id}: ${resource.Type} is in the spec`);
      }
    }
  }
  t.end();
});

t.test('every template has a Description, constrained Parameters and Outputs', (t) => {
  for (const [env, r] of envs) {
    for (const s of r.stacks) {
      t.ok(s.template.Description.length > 20, `${env}/${s.name}: Description`);
      t.ok(Object.keys(s.template.Outputs).length > 0, `${env}/${s.name}: Outputs`);
      t.notOk('Transform' in s.template, `${env}/${s.name}: no Transform`);
    }
  }
  t.end();
});

t.test('every taggable resource carries project, environment, service and cost centre', (t) => {
  for (const [env, r] of envs) {
    let taggable = 0;
    for (const s of r.stacks) {
      const service = s.name.startsWith('service-') ? s.name.slice('service-'.length) : s.name;
      for (const [id, resource] of Object.entries(s.template.Resources)) {
        const info = spec.lookup('resource', 'cloudFormationType', 'equals', resource.Type)[0]!.tagInformation;
        if (!info) continue;
        taggable++;
        const tags = resource.Properties?.[info.tagPropertyName] as Array<{ Key: string; Value: string }>;
        const map = Object.fromEntries(tags.map((x) => [x.Key, x.Value]));
        t.match(map, { Project: r.inv.project, Environment: r.inv.environment, Service: service, CostCentre: r.inv.costCentre, Owner: 'shop-platform' }, `${env}/${s.name} ${id}`);
      }
    }
    t.ok(taggable > 50, `${env}: ${taggable} taggable resources checked`);
  }
  t.end();
});

t.test('stacks take each other\'s values as parameters from outputs, never as hard-coded ids', (t) => {
  for (const [env, r] of envs) {
    t.same(checkWiring(r.stacks).map(formatFinding), [], `${env}: every parameter has a source, every source an earlier output`);
    const fromOutputs = r.stacks.flatMap((s) => Object.values(s.inputs).filter((i) => i.from === 'output'));
    t.ok(fromOutputs.length > 30, `${env}: ${fromOutputs.length} values pass from stack to stack`);
    for (const s of r.stacks) {
      const text = JSON.stringify(s.template);
      t.notMatch(text, /\b(vpc|subnet|sg|igw|nat|rtb|acl|eipalloc|vpce|lt|i)-[0-9a-f]{8,17}\b/, `${env}/${s.name}: no resource ids`);
      // The only account-bound ARNs are the inventory's certificates and web ACL.
      const arns = [...text.matchAll(/arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:\d{12}:[^"]+/g)].map((m) => m[0]);
      const allowed = [r.inv.domain?.certificateArn, r.inv.domain?.albCertificateArn, r.inv.domain?.webAclArn];
      t.same(arns.filter((a) => !allowed.includes(a)), [], `${env}/${s.name}: no hard-coded ARNs`);
    }
  }
  t.end();
});

t.test('I3011 covers every resource type the specification calls stateful', (t) => {
  const types = new Set([...envs.values()].flatMap((r) => r.stacks.flatMap((s) => Object.values(s.template.Resources).map((x) => x.Type))));
  for (const type of types) {
    const resource = spec.lookup('resource', 'cloudFormationType', 'equals', type)[0]!;
    if (resource.isStateful && !['AWS::EC2::SecurityGroup', 'AWS::CloudFront::Distribution'].includes(type)) {
      t.ok(STATEFUL_TYPES.has(type), `${type} is stateful in the spec and covered by I3011`);
    }
  }
  t.end();
});

t.test('the checker catches each kind of mistake', (t) => {
  const base = (): Template => copy(envs.get('production')!.stack('service-catalog').template);
  const rules = (template: Template) => checkAgainstSpec(template, spec, 'broken').map((f) => f.rule);
  const messages = (template: Template) => checkAgainstSpec(template, spec, 'broken').map((f) => `${f.rule} ${f.path}: ${f.message}`).join('\n');
  const cases: Array<[string, (x: Template) => void, string, RegExp]> = [
    ['unknown resource type', (x) => { x.Resources.LaunchTemplate!.Type = 'AWS::EC2::LaunchTemplat'; }, 'resource-type', /AWS::EC2::LaunchTemplat is not a resource type/],
    ['unknown property', (x) => { x.Resources.InstanceRole!.Properties!.Rolename = 'x'; }, 'property-name', /Resources\.InstanceRole\.Properties\.Rolename: unknown property/],
    ['unknown nested property', (x) => { (x.Resources.LaunchTemplate!.Properties!.LaunchTemplateData as Record<string, unknown>).MetadataOption = {}; }, 'property-name', /LaunchTemplateData\.MetadataOption: unknown property/],
    ['missing required property', (x) => { delete x.Resources.AutoScalingGroup!.Properties!.MaxSize; }, 'required-property', /AutoScalingGroup\.Properties\.MaxSize: missing required property/],
    ['missing nested required property', (x) => { delete (x.Resources.CpuTargetTracking!.Properties!.TargetTrackingConfiguration as Record<string, unknown>).TargetValue; }, 'required-property', /TargetValue: missing required/],
    ['wrong value type', (x) => { x.Resources.AutoScalingGroup!.Properties!.HealthCheckGracePeriod = 'soon'; }, 'property-type', /HealthCheckGracePeriod: expected a number/],
    ['a list where an object belongs', (x) => { x.Resources.LaunchTemplate!.Properties!.LaunchTemplateData = []; }, 'property-type', /LaunchTemplateData: expected an object/],
    ['value outside the allowed values', (x) => { x.Resources.ServiceLogGroup!.Properties!.RetentionInDays = 42; }, 'property-type', /RetentionInDays: 42 is not one of 1, 3, 5/],
    ['invalid GetAtt attribute', (x) => { x.Outputs.InstanceRoleArn!.Value = { 'Fn::GetAtt': ['InstanceRole', 'RoleArn'] }; }, 'getatt-attribute', /AWS::IAM::Role has no attribute RoleArn/],
    ['GetAtt of a missing resource', (x) => { x.Outputs.InstanceRoleArn!.Value = { 'Fn::GetAtt': ['Role', 'Arn'] }; }, 'reference-target', /Fn::GetAtt Role\.Arn: no such resource/],
    ['Ref to nothing', (x) => { x.Resources.InstanceProfile!.Properties!.Roles = [{ Ref: 'Role' }]; }, 'reference-target', /Ref Role: no such parameter or resource/],
    ['Sub variable to nothing', (x) => { x.Outputs.LogGroupName!.Value = { 'Fn::Sub': '${ServiceLogGroups}' }; }, 'reference-target', /Ref ServiceLogGroups/],
    ['Sub attribute that does not exist', (x) => { x.Outputs.LogGroupName!.Value = { 'Fn::Sub': '${ServiceLogGroup.Name}' }; }, 'getatt-attribute', /has no attribute Name/],
    ['DependsOn nothing', (x) => { x.Resources.InstanceProfile!.DependsOn = 'Role'; }, 'reference-target', /DependsOn Role/],
    ['unused parameter', (x) => { x.Parameters.Spare = { Type: 'String', Description: 'unused', AllowedPattern: '^x$' }; }, 'parameter-unused', /Spare is never used/],
    ['unconstrained parameter', (x) => { x.Parameters.ArtifactKey = { Type: 'String', Description: 'anything' }; }, 'parameter-constraint', /needs a constraint/],
    ['untagged resource', (x) => { x.Resources.InstanceRole!.Properties!.Tags = [{ Key: 'Project', Value: 'saleday' }]; }, 'tags', /missing Environment, Service, CostCentre/],
    ['ASG tags that do not propagate', (x) => { (x.Resources.AutoScalingGroup!.Properties!.Tags as Array<Record<string, unknown>>)[0]!.PropagateAtLaunch = false; }, 'tags', /should propagate/],
    ['no description', (x) => { x.Description = ''; }, 'template-description', /needs a Description/],
    ['no outputs', (x) => { x.Outputs = {}; }, 'outputs', /Outputs/],
    ['a transform', (x) => { (x as unknown as Record<string, unknown>).Transform = 'AWS::Serverless-2016-10-31'; }, 'no-transform', /no Transform/],
  ];
  t.same(rules(base()), [], 'the unbroken template passes');
  for (const [name, breakIt, rule, message] of cases) {
    const broken = base();
    breakIt(broken);
    t.ok(rules(broken).includes(rule), `${name}: reported as ${rule}`);
    t.match(messages(broken), message, `${name}: says what is wrong`);
  }
  t.end();
});

t.test('the wiring check catches a parameter without a source and a source deployed later', (t) => {
  const stacks = copy(envs.get('staging')!.stacks);
  const orders = stacks.find((s) => s.name === 'service-orders')!;
  delete orders.inputs.ServiceBaseUrl;
  const network = stacks.find((s) => s.name === 'network')!;
  network.template.Parameters.Spare = { Type: 'String', Description: 'x', AllowedPattern: '^x$' };
  network.inputs.Spare = { from: 'output', stack: 'monitoring', output: 'AlarmTopicArn' };
  const db = stacks.find((s) => s.name === 'database')!;
  db.inputs.VpcId = { from: 'output', stack: 'network', output: 'TheVpc' };
  const messages = checkWiring(stacks).map(formatFinding).join('\n');
  t.match(messages, /service-orders: Parameters\.ServiceBaseUrl: no default and no source/);
  t.match(messages, /network: Parameters\.Spare: comes from stack monitoring, which is deployed after network/);
  t.match(messages, /database: Parameters\.VpcId: comes from network output TheVpc, which that stack does not have/);
  t.end();
});
