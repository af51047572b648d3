#!/usr/bin/env node
// TextMate grammar tests.
//
// 1. The committed grammar is what scripts/build-grammar.js generates.
// 2. Snapshot tests (vscode-tmgrammar-snap's tokenizer and .snap format):
//    - every example policy of the repository, read in place
//      (../../examples/**/*.qual); its snapshot is kept here, at
//      test/snapshots/examples/<path>.snap, since vscode-tmgrammar-snap
//      itself can only write a snapshot beside its source file;
//    - test/*.qual (all-constructs.qual), snapshot beside the file as
//      vscode-tmgrammar-snap does (so `npx vscode-tmgrammar-snap 'test/*.qual'`
//      reads the same files).
//    A missing or stale snapshot fails; `--update` (npm run snap:update)
//    rewrites them all.
// 3. Assertion tests: vscode-tmgrammar-test over test/grammar/*.qual.
//
// Prints "N passed, N failed" at the end.
'use strict';

const fs = require('fs');
const path = require('path');
const { spawnSync } = require('child_process');
const { loadConfiguration, createRegistry } = require('vscode-tmgrammar-test/dist/common/index');
const { getVSCodeTokens, renderSnap } = require('vscode-tmgrammar-test/dist/snapshot/index');

const ROOT = path.resolve(__dirname, '..');
const EXAMPLES = path.resolve(ROOT, '..', '..', 'examples');
const EXAMPLE_SNAPS = path.join(ROOT, 'test', 'snapshots', 'examples');
const update = process.argv.includes('--update');

let passed = 0;
let failed = 0;
const ok = (what) => {
  passed++;
  console.log(`  ok   ${what}`);
};
const fail = (what, detail) => {
  failed++;
  console.log(`  FAIL ${what}`);
  if (detail) console.log(detail.replace(/^/gm, '       '));
};

function walk(dir, suffix) {
  if (!fs.existsSync(dir)) return [];
  const out = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...walk(full, suffix));
    else if (entry.name.endsWith(suffix)) out.push(full);
  }
  return out.sort();
}

function firstDifference(expected, actual) {
  const a = expected.split('\n');
  const b = actual.split('\n');
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i]) {
      return `snapshot line ${i + 1}:\n  expected: ${a[i] ?? '(end)'}\n  actual:   ${b[i] ?? '(end)'}\n` +
        'If the change is intended, run `npm run snap:update` and review the .snap diff.';
    }
  }
  return '';
}

async function main() {
  // 1. generated grammar is current
  const build = spawnSync(process.execPath, [path.join(__dirname, 'build-grammar.js'), '--check'], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  if (build.status === 0) ok('syntaxes/qualify.tmLanguage.json matches scripts/build-grammar.js');
  else fail('syntaxes/qualify.tmLanguage.json matches scripts/build-grammar.js', build.stderr + build.stdout);

  // 2. snapshots
  const { grammars } = loadConfiguration(path.join(ROOT, 'package.json'), undefined, []);
  // loadConfiguration gives grammar paths relative to the config's folder.
  for (const g of grammars) g.path = path.resolve(ROOT, g.path);
  const registry = createRegistry(grammars);

  const cases = [];
  const examples = walk(EXAMPLES, '.qual');
  if (examples.length === 0) fail(`example policies found under ${EXAMPLES}`);
  for (const src of examples) {
    const rel = path.relative(EXAMPLES, src);
    cases.push({ label: `examples/${rel}`, src, snap: path.join(EXAMPLE_SNAPS, rel + '.snap') });
  }
  for (const src of walk(path.join(ROOT, 'test'), '.qual').filter((f) => path.dirname(f) === path.join(ROOT, 'test'))) {
    cases.push({ label: path.relative(ROOT, src), src, snap: src + '.snap' });
  }

  const wanted = new Set(cases.map((c) => c.snap));
  for (const snap of walk(EXAMPLE_SNAPS, '.snap')) {
    if (!wanted.has(snap)) {
      if (update) {
        fs.unlinkSync(snap);
        console.log(`  removed stale ${path.relative(ROOT, snap)}`);
      } else {
        fail(`${path.relative(ROOT, snap)} belongs to an example`, 'its example is gone: run `npm run snap:update`');
      }
    }
  }

  for (const c of cases) {
    const source = fs.readFileSync(c.src, 'utf8');
    const actual = renderSnap(await getVSCodeTokens(registry, 'source.qualify', source));
    const what = `snapshot ${c.label}`;
    if (update) {
      fs.mkdirSync(path.dirname(c.snap), { recursive: true });
      const before = fs.existsSync(c.snap) ? fs.readFileSync(c.snap, 'utf8') : null;
      if (before !== actual) fs.writeFileSync(c.snap, actual, 'utf8');
      ok(`${what} (${before === null ? 'written' : before === actual ? 'unchanged' : 'updated'})`);
    } else if (!fs.existsSync(c.snap)) {
      fail(what, `no snapshot ${path.relative(ROOT, c.snap)}: run \`npm run snap:update\` and commit it`);
    } else {
      const expected = fs.readFileSync(c.snap, 'utf8');
      if (expected === actual) ok(what);
      else fail(what, firstDifference(expected, actual));
    }
  }

  // 3. assertion tests
  const unitCases = walk(path.join(ROOT, 'test', 'grammar'), '.qual');
  const bin = path.join(ROOT, 'node_modules', 'vscode-tmgrammar-test', 'dist', 'unit.js');
  for (const file of unitCases) {
    const rel = path.relative(ROOT, file);
    const run = spawnSync(process.execPath, [bin, '--compact', rel], { cwd: ROOT, encoding: 'utf8' });
    if (run.status === 0) ok(`assertions ${rel}`);
    else fail(`assertions ${rel}`, (run.stdout + run.stderr).trim());
  }
  if (unitCases.length === 0) fail('assertion tests found in test/grammar');

  console.log(`\ngrammar: ${passed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
