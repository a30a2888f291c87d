// The YAML problem reporter the inventory and profile loaders share: every problem at once, each
// placed at its line with its dotted path; an unknown key names the allowed key it likely meant.
import t from 'tap';
import { Type } from '@sinclair/typebox';
import { closest, didYouMean, dotted, readYaml, type Wording } from '../../environment/index.js';

const words: Wording = {
  syntax: (m) => ({ problem: `syntax: ${m}`, expected: 'YAML' }),
  notAMapping: () => ({ problem: 'not a mapping', expected: 'a mapping' }),
  unknownKey: (key, allowed, suggestion) => ({ problem: `unknown ${key}${didYouMean(key, allowed)}`, expected: suggestion ?? allowed.join(' ') }),
  missing: (key) => ({ problem: `missing ${key}`, expected: key }),
  invalid: (key, value, _schema, message) => ({ problem: `${message}, got ${JSON.stringify(value)}`, expected: key }),
};

const Schema = Type.Object(
  {
    name: Type.String(),
    size: Type.Integer({ minimum: 1 }),
    parts: Type.Array(Type.Object({ id: Type.String(), weight: Type.Number() }, { additionalProperties: false })),
  },
  { additionalProperties: false },
);

t.test('every schema problem, each with its line, column and dotted path', (t) => {
  const text = 'name: x\nsize: 0\nparts:\n  - id: a\n    wieght: 2\n  - id: 3\n    weight: 1\ncolour: red\n';
  const { value, problems } = readYaml(text, words);
  t.ok(value);
  t.equal(problems.checkSchema(Schema, value), true);
  t.same(
    problems.list.map((p) => [p.path, p.line, p.problem]),
    [
      ['colour', 8, 'unknown colour'],
      ['size', 2, 'Expected integer to be greater or equal to 1, got 0'],
      ['parts[0].weight', 4, 'missing weight'],
      ['parts[0].wieght', 5, 'unknown wieght (did you mean "weight"?)'],
      ['parts[1].id', 6, 'Expected string, got 3'],
    ],
  );
  t.equal(problems.list.find((p) => p.path === 'parts[0].wieght')?.expected, 'weight', 'the suggestion reaches the wording');
  t.equal(problems.list.find((p) => p.path === 'parts[0].wieght')?.col, 5, 'an unknown key is placed at the key');
  t.end();
});

t.test('a missing key is placed at its parent: by key, or where its value starts', (t) => {
  const text = 'name: x\nsize: 1\nparts:\n  - id: a\n';
  const byKey = readYaml(text, words).problems;
  byKey.add(['parts', 0, 'weight'], 'missing', 'a number');
  byKey.add(['colour'], 'missing', 'a colour');
  const byNode = readYaml(text, words, { locate: 'node' }).problems;
  byNode.add(['parts', 0, 'weight'], 'missing', 'a number');
  byNode.add(['colour'], 'missing', 'a colour');
  t.same(byKey.list.map((p) => p.line), [4, 1]);
  t.same(byNode.list.map((p) => p.line), [4, undefined], 'nothing for a top-level key');
  t.end();
});

t.test('values set on the command line have no line', (t) => {
  const { problems } = readYaml('name: x\nparts:\n  - id: a\n', words, { locate: 'node' });
  problems.overrides(['parts', 0]);
  problems.add(['parts', 0, 'id'], 'bad', 'good');
  problems.add(['name'], 'bad', 'good');
  problems.add(['size'], 'no such setting', 'one of …', { fromOverride: true });
  t.same(problems.list.map((p) => [p.path, p.line, p.fromOverride]), [['parts[0].id', undefined, true], ['name', 1, false], ['size', undefined, true]]);
  t.end();
});

t.test('every YAML syntax error, and a file that is not a mapping', (t) => {
  const broken = readYaml('name: x\nparts: [\nfoo: : bar\n', words);
  t.equal(broken.value, undefined);
  t.ok(broken.problems.length >= 2, 'more than the first');
  t.match(broken.problems.list[0], { path: '', line: Number, problem: /^syntax: / });
  for (const text of ['- a\n', '', 'hello']) {
    const r = readYaml(text, words);
    t.equal(r.value, undefined);
    t.same(r.problems.list.map((p) => [p.line, p.problem]), [[1, 'not a mapping']], JSON.stringify(text));
  }
  t.end();
});

t.test('did you mean: close typos only, case does not count', (t) => {
  t.equal(closest('maxInflight', ['maxInFlight', 'maxQueued']), 'maxInFlight');
  t.equal(closest('ordrs', ['users', 'catalog', 'inventory', 'orders']), 'orders');
  t.equal(closest('payments', ['users', 'catalog', 'inventory', 'orders']), undefined);
  t.equal(didYouMean('rampto', ['rate', 'rampTo']), ' (did you mean "rampTo"?)');
  t.equal(didYouMean('x', []), '');
  t.equal(dotted(['saleEvents', 0, 'prewarm', 'orders']), 'saleEvents[0].prewarm.orders');
  t.end();
});
