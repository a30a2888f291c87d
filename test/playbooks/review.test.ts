// The review of a representative update, pinned by golden files (UPDATE_GOLDEN=1 rewrites them
// after a deliberate change), and its Markdown form checked as real tables by a Markdown parser.
import t, { type Test } from 'tap';
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { marked, type Tokens } from 'marked';
import type { ChangeSetInfo } from '../../playbooks/lib/aws/cloudformation.js';
import { buildReview, refusedRisks } from '../../playbooks/lib/review.js';
import { mdCell, reviewDocument, reviewMarkdown, reviewText } from '../../playbooks/lib/review-format.js';
import { databaseTemplate } from '../fixtures/stack-templates.js';

const golden = (name: string) => fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));

const changeSet: ChangeSetInfo = {
  id: 'arn:aws:cloudformation:eu-west-1:123456789012:changeSet/saleday-0123456789ab/1',
  name: 'saleday-0123456789ab',
  stackName: 'saleday-production-database',
  status: 'CREATE_COMPLETE',
  executionStatus: 'AVAILABLE',
  parameters: { VpcId: 'vpc-1', InstanceClass: 'db.r6g.large', MasterPassword: 'never-shown' },
  changes: [
    {
      Type: 'Resource',
      ResourceChange: {
        Action: 'Modify', LogicalResourceId: 'Database', PhysicalResourceId: 'sd-prod-db', ResourceType: 'AWS::RDS::DBInstance', Replacement: 'Conditional', Scope: ['Properties'],
        Details: [
          { Target: { Attribute: 'Properties', Name: 'DBInstanceClass', RequiresRecreation: 'Never' } },
          { Target: { Attribute: 'Properties', Name: 'KmsKeyId', RequiresRecreation: 'Conditionally' } },
        ],
      },
    },
    {
      Type: 'Resource',
      ResourceChange: {
        Action: 'Modify', LogicalResourceId: 'DbSecurityGroup', ResourceType: 'AWS::EC2::SecurityGroup', Replacement: 'False', Scope: ['Properties'],
        Details: [{ Target: { Attribute: 'Properties', Name: 'SecurityGroupIngress', RequiresRecreation: 'Never' } }],
      },
    },
    {
      Type: 'Resource',
      ResourceChange: {
        Action: 'Modify', LogicalResourceId: 'MonitoringRole', ResourceType: 'AWS::IAM::Role', Replacement: 'False', Scope: ['Properties'],
        Details: [{ Target: { Attribute: 'Properties', Name: 'Policies', RequiresRecreation: 'Never' } }],
      },
    },
    { Type: 'Resource', ResourceChange: { Action: 'Add', LogicalResourceId: 'ReadReplica1', ResourceType: 'AWS::RDS::DBInstance' } },
    { Type: 'Resource', ResourceChange: { Action: 'Remove', LogicalResourceId: 'OldBucket', PhysicalResourceId: 'sd-old-bucket', ResourceType: 'AWS::S3::Bucket' } },
  ],
};

const review = (allowReplace: string[] = []) =>
  buildReview({
    stackName: 'saleday-production-database',
    changeSet,
    kind: 'UPDATE',
    oldTemplate: databaseTemplate(),
    newTemplate: databaseTemplate({ instanceClass: 'db.r6g.large', openTo: '0.0.0.0/0', extraStatement: true }),
    oldParameters: { VpcId: 'vpc-1', InstanceClass: 'db.t3.medium', MasterPassword: 'old-never-shown' },
    newParameters: changeSet.parameters,
    allowReplace,
  });

async function compareGolden(t: Test, file: string, actual: string): Promise<void> {
  if (process.env.UPDATE_GOLDEN) await writeFile(golden(file), actual);
  t.equal(actual, await readFile(golden(file), 'utf8'), `${file} matches (UPDATE_GOLDEN=1 rewrites it after a deliberate change)`);
}

t.test('the review of a representative update (golden)', async (t) => {
  const r = review(['OldBucket']);
  await compareGolden(t, 'review-update.golden.txt', `${reviewText(r)}\n`);
  await compareGolden(t, 'review-update.golden.md', reviewMarkdown(r));
  t.same(refusedRisks(r).map((s) => `${s.logicalId}:${s.risk}`), ['Database:may be replaced'], 'the conditional database replacement is refused, the allowed bucket removal is not');
  const text = reviewText(r);
  t.notMatch(text, /never-shown/, 'NoEcho parameter values masked');
  t.match(text, /secretsmanager:GetSecretValue/, 'the new IAM statement is listed');
  t.match(text, /Everyone \(IPv4\)/, 'the open ingress is listed');
});

t.test('--review-md output is valid Markdown with real tables', (t) => {
  const doc = reviewDocument('saleday production: change-set review', [review()], ['saleday-production-network']);
  const tokens = marked.lexer(doc);
  const tables = tokens.filter((x): x is Tokens.Table => x.type === 'table');
  t.ok(tables.length >= 5, `${tables.length} tables`);
  for (const table of tables) {
    t.ok(table.header.length >= 3);
    for (const row of table.rows) t.equal(row.length, table.header.length, 'every row has as many cells as the header');
  }
  const resources = tables[0]!;
  t.same(resources.header.map((h) => h.text), ['Action', 'Logical ID', 'Type', 'Replacement', 'Changes']);
  t.same(resources.rows.map((r) => r[1]!.text), ['Database', 'DbSecurityGroup', 'MonitoringRole', 'ReadReplica1', 'OldBucket']);
  t.match(marked.parse(doc, { async: false }), /<table>/);
  t.match(doc, /No changes: `saleday-production-network`\./);
  t.equal(mdCell('a|b\nc'), 'a\\|b<br>c', 'pipes and line breaks cannot break a table');
  t.end();
});

t.test('a change to the distribution shows what the edge caches, per path; other changes do not', async (t) => {
  const { loadEnvironment } = await import('../../environment/index.js');
  const { renderStacks } = await import('../../cloudformation/index.js');
  const inv = await loadEnvironment(fileURLToPath(new URL('../../playbooks/inventories/production.yaml', import.meta.url)));
  const site = renderStacks(inv).find((s) => s.name === 'static-site')!.template as unknown as Record<string, unknown>;
  const edgeChange: ChangeSetInfo = {
    ...changeSet,
    stackName: 'saleday-production-static-site',
    parameters: {},
    changes: [
      { Type: 'Resource', ResourceChange: { Action: 'Add', LogicalResourceId: 'CatalogProductsCachePolicy', ResourceType: 'AWS::CloudFront::CachePolicy' } },
      { Type: 'Resource', ResourceChange: { Action: 'Modify', LogicalResourceId: 'Distribution', ResourceType: 'AWS::CloudFront::Distribution', Replacement: 'False', Scope: ['Properties'] } },
    ],
  };
  const r = buildReview({ stackName: 'saleday-production-static-site', changeSet: edgeChange, kind: 'UPDATE', oldTemplate: site, newTemplate: site, oldParameters: {}, newParameters: {}, allowReplace: [] });
  const text = reviewText(r);
  t.match(text, /Edge: what CloudFront caches, per path/);
  t.match(text, /│ \/api\/catalog\/products\s+│ api\s+│ all\s+│ GET, HEAD, as Cache-Control allows │ 0\/0\/60\s+│ path; query: category, q, limit, cursor; cookies: none; headers: none │/);
  t.match(text, /│ \/api\/\*\s+│ api\s+│ all\s+│ no\s+│ -/);
  t.match(reviewMarkdown(r), /#### Edge: what CloudFront caches[\s\S]*\| \/api\/catalog\/products\/\* \| api \| all \| GET, HEAD, as Cache-Control allows \|/);
  t.same(review().edge, [], 'a database change shows no edge table');
});
