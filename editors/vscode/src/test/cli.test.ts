import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import {
  binaryMissingMessage,
  cliError,
  explainLeadArgs,
  explainRowArgs,
  isDate,
  isRate,
  normalizeLeadJson,
  parseTestSummary,
  resolveAgainst,
  resolveBinary,
  run,
  sampleForPolicy,
  sampleFromQualifyToml,
  serverSettings,
  summarizeTestRun,
  testArgs,
  validateLeadJson,
  validateRow,
} from '../cli';

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'qualify-vscode-'));
}

function fakeBinary(dir: string, name = 'qualify'): string {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, name);
  fs.writeFileSync(file, '#!/bin/sh\necho "$@"\n');
  fs.chmodSync(file, 0o755);
  return file;
}

describe('resolveBinary', () => {
  it('finds a bare name on PATH', () => {
    const dir = tempDir();
    const bin = fakeBinary(path.join(dir, 'bin'));
    const r = resolveBinary('qualify', { env: { PATH: `/nonexistent${path.delimiter}${path.join(dir, 'bin')}` }, homedir: dir });
    assert.deepEqual(r, { found: true, path: bin });
  });

  it('defaults an empty setting to qualify', () => {
    const dir = tempDir();
    const bin = fakeBinary(path.join(dir, 'bin'));
    const r = resolveBinary('  ', { env: { PATH: path.join(dir, 'bin') }, homedir: dir });
    assert.deepEqual(r, { found: true, path: bin });
  });

  it('falls back to ~/.cargo/bin, where cargo install puts it', () => {
    const home = tempDir();
    const bin = fakeBinary(path.join(home, '.cargo', 'bin'));
    const r = resolveBinary('qualify', { env: { PATH: '/nonexistent' }, homedir: home });
    assert.deepEqual(r, { found: true, path: bin });
  });

  it('takes a path with a separator relative to the workspace folder', () => {
    const ws = tempDir();
    const bin = fakeBinary(path.join(ws, 'target', 'debug'));
    const r = resolveBinary('target/debug/qualify', { workspaceFolder: ws, env: { PATH: '' }, homedir: ws });
    assert.deepEqual(r, { found: true, path: bin });
    const r2 = resolveBinary('${workspaceFolder}/target/debug/qualify', { workspaceFolder: ws, env: { PATH: '' }, homedir: ws });
    assert.deepEqual(r2, { found: true, path: bin });
  });

  it('expands ~ and accepts absolute paths', () => {
    const home = tempDir();
    const bin = fakeBinary(path.join(home, 'tools'));
    assert.deepEqual(resolveBinary('~/tools/qualify', { env: {}, homedir: home }), { found: true, path: bin });
    assert.deepEqual(resolveBinary(bin, { env: {}, homedir: home }), { found: true, path: bin });
  });

  it('reports every place it looked when the binary is missing', () => {
    const home = tempDir();
    const r = resolveBinary('qualify', { env: { PATH: '/a:/b' }, homedir: home, platform: 'linux' });
    assert.equal(r.found, false);
    if (!r.found) {
      assert.equal(r.setting, 'qualify');
      assert.deepEqual(r.tried, ['/a/qualify', '/b/qualify', path.join(home, '.cargo', 'bin', 'qualify')]);
    }
  });

  it('does not take a file that cannot be run', () => {
    const dir = tempDir();
    const file = path.join(dir, 'qualify');
    fs.writeFileSync(file, 'not a program');
    fs.chmodSync(file, 0o644);
    const r = resolveBinary(file, { env: {}, homedir: dir, platform: 'linux' });
    assert.equal(r.found, false);
  });

  it('a relative path without a workspace folder is not found', () => {
    const r = resolveBinary('bin/qualify', { env: { PATH: '/x' }, homedir: '/nowhere' });
    assert.equal(r.found, false);
  });

  it('tries PATHEXT on Windows', () => {
    const seen: string[] = [];
    const r = resolveBinary('qualify', {
      env: { PATH: 'C:\\tools', PATHEXT: '.EXE;.CMD' },
      platform: 'win32',
      homedir: 'C:\\Users\\me',
      isExecutable: (f) => {
        seen.push(f);
        return f === 'C:\\tools\\qualify.EXE';
      },
    });
    assert.deepEqual(r, { found: true, path: 'C:\\tools\\qualify.EXE' });
    assert.deepEqual(seen, ['C:\\tools\\qualify', 'C:\\tools\\qualify.EXE']);
  });

  it('the missing-binary message says where and how to fix it', () => {
    const m = binaryMissingMessage('qualify');
    assert.match(m, /not found at `qualify` on your PATH/);
    assert.match(m, /cargo install --path \./);
    assert.match(m, /qualify\.path/);
    assert.match(binaryMissingMessage('/opt/q', 'EACCES'), /not found at `\/opt\/q` \(EACCES\)/);
  });
});

describe('settings for the server', () => {
  it('passes the keys the server reads, with its names', () => {
    const { settings, problems } = serverSettings({
      sample: ' data/leads.csv ',
      minPassRate: '1%',
      maxMissing: 0.3,
      noConfig: true,
      asOf: '2026-06-01',
    });
    assert.deepEqual(settings, { sample: 'data/leads.csv', minPassRate: '1%', maxMissing: 0.3, noConfig: true, asOf: '2026-06-01' });
    assert.deepEqual(problems, []);
  });

  it('leaves out empty values, so qualify.toml and the defaults apply', () => {
    const { settings, problems } = serverSettings({ sample: '', minPassRate: null, maxMissing: '', noConfig: undefined, asOf: '' });
    assert.deepEqual(settings, { noConfig: false });
    assert.deepEqual(problems, []);
  });

  it('drops malformed values and says why', () => {
    const { settings, problems } = serverSettings({ minPassRate: 'lots', maxMissing: 3, asOf: '2026-02-30', sample: 42 });
    assert.deepEqual(settings, { noConfig: false });
    assert.equal(problems.length, 3);
    assert.match(problems[0] ?? '', /qualify\.minPassRate/);
    assert.match(problems[2] ?? '', /qualify\.asOf/);
  });

  it('knows dates and rates', () => {
    assert.ok(isDate('2024-02-29'));
    assert.ok(!isDate('2023-02-29'));
    assert.ok(!isDate('2026-6-1'));
    assert.ok(isRate('1%') && isRate('0.5 %') && isRate(0.01) && isRate('0.3'));
    assert.ok(!isRate('150%') && !isRate(-1) && !isRate('x') && !isRate(true));
  });
});

describe('arguments', () => {
  it('qualify test', () => {
    assert.deepEqual(testArgs('policy.qual'), ['test', 'policy.qual']);
    assert.deepEqual(testArgs('.', '2026-06-01'), ['test', '.', '--as-of', '2026-06-01']);
    assert.deepEqual(testArgs('.', 'soon'), ['test', '.']);
  });

  it('qualify explain --lead keeps the JSON as one argument', () => {
    const json = normalizeLeadJson('{ "budget": 40000,\n "demo requested": true }');
    assert.equal(json, '{"budget":40000,"demo requested":true}');
    assert.deepEqual(explainLeadArgs('/p/policy.qual', json), ['explain', '/p/policy.qual', '--lead', json]);
    assert.deepEqual(explainLeadArgs('p.qual', '{}', '2026-06-01'), ['explain', 'p.qual', '--lead', '{}', '--as-of', '2026-06-01']);
  });

  it('qualify explain SAMPLE --row', () => {
    assert.deepEqual(explainRowArgs('p.qual', 'leads.csv', 12), ['explain', 'p.qual', 'leads.csv', '--row', '12']);
  });
});

describe('user input', () => {
  it('a lead is a JSON object', () => {
    assert.equal(validateLeadJson('{"budget": 40000}'), undefined);
    assert.equal(validateLeadJson('{}'), undefined);
    assert.match(validateLeadJson('') ?? '', /JSON object/);
    assert.match(validateLeadJson('{budget: 1}') ?? '', /Not valid JSON/);
    assert.match(validateLeadJson('[1, 2]') ?? '', /not an array/);
    assert.match(validateLeadJson('null') ?? '', /not null/);
    assert.match(validateLeadJson('"x"') ?? '', /not a string/);
    assert.match(validateLeadJson('42') ?? '', /not a number/);
  });

  it('a row is a whole number from 1', () => {
    assert.equal(validateRow('1'), undefined);
    assert.equal(validateRow(' 12 '), undefined);
    for (const bad of ['0', '-1', '1.5', 'x', '', '99999999999999999999']) assert.notEqual(validateRow(bad), undefined, bad);
  });
});

describe('qualify test output', () => {
  const passing = 'p.qual\n  ✓ one\n  ✓ two\n\n2 passed, 0 failed\n';
  const failing = 'fail.qual\n  ✗ x (fail.qual:5)\n      expected SQL, got MQL\n\n0 passed, 1 failed\n';

  it('reads the summary line', () => {
    assert.deepEqual(parseTestSummary(passing), { passed: 2, failed: 0 });
    assert.deepEqual(parseTestSummary(failing.replace(/\n/g, '\r\n')), { passed: 0, failed: 1 });
    assert.equal(parseTestSummary('nothing here'), undefined);
  });

  it('summarises a run', () => {
    assert.deepEqual(summarizeTestRun('p.qual', 0, passing, ''), { kind: 'passed', message: 'Qualify: 2 passed, 0 failed (p.qual)' });
    assert.equal(summarizeTestRun('fail.qual', 1, failing, '').kind, 'failed');
    assert.equal(summarizeTestRun('x', 0, '\n0 passed, 0 failed\n', '').kind, 'none');
    const blocked = summarizeTestRun('bad.qual', 1, 'bad.qual\n  ✗ the policy has 1 error(s); its tests cannot run\n\n0 passed, 1 failed\n', 'Q0101 …');
    assert.equal(blocked.kind, 'failed');
    assert.match(blocked.message, /policy has errors/);
    const usage = summarizeTestRun('nope.qual', 2, '', 'error: nope.qual: no such file or directory\n');
    assert.deepEqual(usage, { kind: 'error', message: 'Qualify: could not run the tests of nope.qual: error: nope.qual: no such file or directory' });
  });

  it('reads the CLI error line', () => {
    assert.equal(cliError('error: --lead: no field or column named `zzz`\n', 2), '--lead: no field or column named `zzz`');
    assert.equal(cliError('', 3), 'exit status 3');
  });
});

describe('qualify.toml', () => {
  it('reads [sample] file', () => {
    assert.equal(sampleFromQualifyToml('[sample]\nfile = "leads.csv"\nmin_pass_rate = "10%"\n'), 'leads.csv');
    assert.equal(sampleFromQualifyToml("# c\n[sample]\n  file = 'data/a b.csv'  # note\n"), 'data/a b.csv');
    assert.equal(sampleFromQualifyToml('[other]\nfile = "x"\n'), undefined);
    assert.equal(sampleFromQualifyToml('file = "x"\n[sample]\nmax_missing = 0.3\n'), undefined);
    assert.equal(sampleFromQualifyToml('[sample]\nfile = "C:\\\\data\\\\x.csv"\n'), 'C:\\data\\x.csv');
  });

  it('finds the nearest qualify.toml above the policy', () => {
    const root = tempDir();
    fs.mkdirSync(path.join(root, 'policies', 'team'), { recursive: true });
    fs.writeFileSync(path.join(root, 'qualify.toml'), '[sample]\nfile = "data/leads.csv"\n');
    const policy = path.join(root, 'policies', 'team', 'p.qual');
    assert.equal(sampleForPolicy(policy), path.join(root, 'data', 'leads.csv'));
    fs.writeFileSync(path.join(root, 'policies', 'qualify.toml'), '# no sample here\n');
    assert.equal(sampleForPolicy(policy), undefined);
  });

  it('resolves a setting against the workspace folder', () => {
    assert.equal(resolveAgainst('/ws', 'data/x.csv'), path.resolve('/ws', 'data/x.csv'));
    assert.equal(resolveAgainst('/ws', '/abs/x.csv'), '/abs/x.csv');
    assert.equal(resolveAgainst(undefined, 'x.csv'), 'x.csv');
  });
});

describe('run', () => {
  it('passes arguments without a shell', async () => {
    const r = await run(process.execPath, ['-e', 'process.stdout.write(JSON.stringify(process.argv.slice(1)))', '{"a": "b c"}', '$(echo no)', "'; rm -rf /"]);
    assert.equal(r.code, 0);
    assert.deepEqual(JSON.parse(r.stdout), ['{"a": "b c"}', '$(echo no)', "'; rm -rf /"]);
  });

  it('returns the exit status and stderr', async () => {
    const r = await run(process.execPath, ['-e', 'process.stderr.write("error: boom\\n"); process.exit(2)']);
    assert.equal(r.code, 2);
    assert.equal(r.stderr, 'error: boom\n');
    assert.equal(r.spawnError, undefined);
  });

  it('reports a binary that cannot be started', async () => {
    const r = await run('/nonexistent/qualify', ['--version']);
    assert.equal(r.spawnError?.code, 'ENOENT');
  });
});

// With QUALIFY_BIN set, the real CLI: its output is what the parsers expect.
const bin = process.env.QUALIFY_BIN;
describe('the real qualify binary (QUALIFY_BIN)', { skip: bin ? false : 'QUALIFY_BIN is not set' }, () => {
  const examples = path.resolve(__dirname, '..', '..', '..', '..', 'examples');

  it('qualify test output has the summary line', async () => {
    const r = await run(bin ?? '', testArgs(path.join(examples, 'b2b-saas', 'policy.qual'), '2026-06-01'));
    assert.equal(r.code, 0, r.stderr);
    const s = parseTestSummary(r.stdout);
    assert.ok(s && s.passed > 0 && s.failed === 0, r.stdout);
    assert.equal(summarizeTestRun('policy.qual', r.code, r.stdout, r.stderr).kind, 'passed');
  });

  it('qualify explain --lead and --row work with the arguments built here', async () => {
    const policy = path.join(examples, 'b2b-saas', 'policy.qual');
    const lead = await run(bin ?? '', explainLeadArgs(policy, normalizeLeadJson('{"budget": 40000, "demo requested": true}'), '2026-06-01'));
    assert.equal(lead.code, 0, lead.stderr);
    assert.match(lead.stdout, /^Stage: /m);
    const row = await run(bin ?? '', explainRowArgs(policy, path.join(examples, 'b2b-saas', 'leads.csv'), 1, '2026-06-01'));
    assert.equal(row.code, 0, row.stderr);
    assert.match(row.stdout, /^Stage: /m);
    const bad = await run(bin ?? '', explainLeadArgs(policy, '{"no such field": 1}'));
    assert.equal(bad.code, 2);
    assert.match(cliError(bad.stderr, bad.code), /no field or column named/);
  });
});
