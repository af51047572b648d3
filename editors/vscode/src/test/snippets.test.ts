import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { run } from '../cli';
import { expandSnippet } from './snippetExpand';

const ROOT = path.resolve(__dirname, '..', '..');
interface Snippet {
  prefix: string | string[];
  body: string | string[];
  description?: string;
}
const snippets = JSON.parse(fs.readFileSync(path.join(ROOT, 'snippets', 'qualify.json'), 'utf8')) as Record<string, Snippet>;

// What each snippet needs around it to be a whole policy: the fields it
// refers to, and stages. Snippets that declare things need nothing more.
const STAGES = 'stages unqualified < MQL < SQL\notherwise unqualified\n';
const CONTEXT: Record<string, string> = {
  'BANT rule': `field budget: money optional
field authority: bool default false
field need: enum { urgent, planned, exploring } optional
field timeline: date optional
${STAGES}`,
  // The placeholder condition `condition` reads as a field of that name.
  disqualifier: `field condition: bool default false
field demo requested: bool default false
${STAGES}
rule demo: demo requested => MQL
`,
  'MEDDPICC criteria': `field metrics agreed: bool default false
field economic buyer met: bool default false
field decision criteria: enum { documented, verbal, none } optional
field decision process: enum { mapped, partial, unmapped } optional
field pain: enum { critical, significant, minor } optional
field champion: string optional
field champion tested: bool default false
field competitive position: enum { ahead, even, behind } optional
${STAGES}`,
  'score block': `field demo requested: bool default false
field pricing page visits: integer default 0
field careers page visited: bool default false
`,
  'test block': `field budget: money optional
field demo requested: bool default false
${STAGES}
rule ready to buy: budget known and demo requested => SQL
`,
  'schema field': '',
  'enum field': '',
  'yes/no field': '',
  stages: '',
};

describe('snippet expansion', () => {
  it('placeholders, choices, escapes, mirrors and variables', () => {
    const today = new Date(2026, 5, 1);
    assert.equal(expandSnippet('a ${1:b} $1 ${2|x,y|} \\$5 ${3:in { c \\}} $0$4', today), 'a b b x $5 in { c } ');
    assert.equal(expandSnippet(['as of $CURRENT_YEAR-$CURRENT_MONTH-$CURRENT_DATE', '\tx'], today), 'as of 2026-06-01\n  x');
    assert.equal(expandSnippet('${1:outer ${2:inner}} $2', today), 'outer inner inner');
    assert.equal(expandSnippet('${UNKNOWN:fallback}'), 'fallback');
  });
});

describe('snippets', () => {
  it('has the snippets the extension promises', () => {
    for (const name of ['BANT rule', 'disqualifier', 'MEDDPICC criteria', 'score block', 'test block', 'schema field']) {
      assert.ok(snippets[name], `missing snippet ${name}`);
    }
  });

  for (const [name, snippet] of Object.entries(snippets)) {
    it(`${name}: has a prefix, a description and a context to test it in`, () => {
      assert.ok(snippet.prefix.length > 0);
      assert.ok(snippet.description);
      assert.ok(name in CONTEXT, `add the snippet "${name}" to CONTEXT in src/test/snippets.test.ts`);
    });
  }

  it('the disqualifier is a ceiling with a reason', () => {
    const text = expandSnippet(snippets['disqualifier']?.body ?? '');
    assert.equal(text, 'rule competitor: condition => at most unqualified because "reason"');
  });

  it('no snippet writes `overrides`, which no longer means anything', () => {
    for (const [name, snippet] of Object.entries(snippets)) {
      assert.doesNotMatch(expandSnippet(snippet.body), /\boverrides\b/, name);
    }
  });

  it('MEDDPICC covers every element and needs at least N of them', () => {
    const text = expandSnippet(snippets['MEDDPICC criteria']?.body ?? '');
    const criteria = text.split('\n').filter((l) => l.startsWith('criterion '));
    assert.equal(criteria.length, 7);
    assert.match(text, /at least 5 of \(/);
  });

  const bin = process.env.QUALIFY_BIN;
  for (const [name, snippet] of Object.entries(snippets)) {
    it(`${name}: expands to a policy that \`qualify check\` accepts`, { skip: bin ? false : 'QUALIFY_BIN is not set' }, async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'qualify-snippet-'));
      const file = path.join(dir, 'snippet.qual');
      const policy = `${CONTEXT[name] ?? ''}\n${expandSnippet(snippet.body)}\n`;
      fs.writeFileSync(file, policy);
      const r = await run(bin ?? '', ['check', '--no-config', file]);
      assert.equal(r.code, 0, `qualify check failed on the "${name}" snippet:\n${policy}\n${r.stdout}${r.stderr}`);
      // A test block must also pass its own test.
      if (/^test "/m.test(policy)) {
        const t = await run(bin ?? '', ['test', file]);
        assert.equal(t.code, 0, `${t.stdout}${t.stderr}`);
      }
    });
  }
});
