// The extension's pure logic: finding the qualify binary, building its
// arguments, checking what the user typed, reading its output. Nothing here
// imports `vscode`, so it runs under `node --test` (see src/test/).

import { execFile } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';

// ------------------------------------------------------------------ the binary

export interface ResolveOptions {
  /** The first workspace folder, for a relative `qualify.path`. */
  workspaceFolder?: string;
  env?: NodeJS.ProcessEnv;
  platform?: NodeJS.Platform;
  homedir?: string;
  /** Whether a file exists and can be run (tests replace it). */
  isExecutable?: (file: string) => boolean;
}

export type Resolved =
  | { found: true; path: string }
  | { found: false; setting: string; tried: string[] };

export function isExecutableFile(file: string): boolean {
  try {
    const stat = fs.statSync(file);
    if (!stat.isFile()) return false;
    if (process.platform === 'win32') return true;
    fs.accessSync(file, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Where the `qualify.path` setting points.
 *
 * - empty: `qualify`;
 * - `~/…`: under the home folder;
 * - an absolute path: that file;
 * - a path with a separator (`target/release/qualify`, `./bin/qualify`):
 *   relative to the first workspace folder;
 * - a bare name (`qualify`): looked up on PATH, then in `~/.cargo/bin`
 *   (where `cargo install` puts it, and which an editor started from the
 *   desktop often lacks on its PATH).
 */
export function resolveBinary(setting: string | undefined, options: ResolveOptions = {}): Resolved {
  const env = options.env ?? process.env;
  const platform = options.platform ?? process.platform;
  const home = options.homedir ?? os.homedir();
  const isExec = options.isExecutable ?? isExecutableFile;
  const p = platform === 'win32' ? path.win32 : path.posix;
  const raw = (setting ?? '').trim() || 'qualify';
  const tried: string[] = [];

  // On Windows, `qualify` may be `qualify.exe`.
  const exts =
    platform === 'win32'
      ? ['', ...(env.PATHEXT ?? '.EXE;.CMD;.BAT;.COM').split(';').filter((e) => e.length > 0)]
      : [''];
  const tryFile = (file: string): string | undefined => {
    for (const ext of exts) {
      const candidate = file + ext;
      if (!tried.includes(candidate)) tried.push(candidate);
      if (isExec(candidate)) return candidate;
    }
    return undefined;
  };

  let expanded = raw;
  if (raw === '~' || raw.startsWith('~/') || raw.startsWith('~\\')) {
    expanded = p.join(home, raw.slice(1));
  }
  if (options.workspaceFolder) {
    expanded = expanded.replace(/\$\{workspaceFolder\}/g, options.workspaceFolder);
  }

  if (p.isAbsolute(expanded)) {
    const hit = tryFile(expanded);
    return hit ? { found: true, path: hit } : { found: false, setting: raw, tried };
  }
  const hasSeparator = expanded.includes('/') || (platform === 'win32' && expanded.includes('\\'));
  if (hasSeparator) {
    if (!options.workspaceFolder) return { found: false, setting: raw, tried: [expanded + ' (no workspace folder)'] };
    const hit = tryFile(p.resolve(options.workspaceFolder, expanded));
    return hit ? { found: true, path: hit } : { found: false, setting: raw, tried };
  }
  const dirs = (env.PATH ?? env.Path ?? '').split(p.delimiter).filter((d) => d.length > 0);
  for (const dir of dirs) {
    const hit = tryFile(p.join(dir, expanded));
    if (hit) return { found: true, path: hit };
  }
  const cargoHit = tryFile(p.join(env.CARGO_HOME ?? p.join(home, '.cargo'), 'bin', expanded));
  if (cargoHit) return { found: true, path: cargoHit };
  return { found: false, setting: raw, tried };
}

/** The error shown when the binary cannot be found or started. */
export function binaryMissingMessage(setting: string, detail?: string): string {
  const where = setting === 'qualify' ? '`qualify` on your PATH' : `\`${setting}\``;
  return (
    `Qualify: the qualify binary was not found at ${where}${detail ? ` (${detail})` : ''}. ` +
    'Install it with `cargo install --path .` in the Qualify repository, ' +
    'or set `qualify.path` to the binary. Highlighting and snippets work without it; ' +
    'diagnostics, hover, completion and the commands need it.'
  );
}

// ------------------------------------------------------------------ settings

/** What the language server reads (src/lsp/server.rs, `Settings`). */
export interface ServerSettings {
  sample?: string;
  minPassRate?: number | string;
  maxMissing?: number | string;
  noConfig: boolean;
  asOf?: string;
}

export interface RawSettings {
  sample?: unknown;
  minPassRate?: unknown;
  maxMissing?: unknown;
  noConfig?: unknown;
  asOf?: unknown;
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** `YYYY-MM-DD`, a real calendar date. */
export function isDate(text: string): boolean {
  const m = DATE.exec(text);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(y, mo - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d;
}

/** A share the server accepts: `0.01`, `"1%"`, `"0.5 %"`. */
export function isRate(value: unknown): value is number | string {
  if (typeof value === 'number') return Number.isFinite(value) && value >= 0 && value <= 1;
  if (typeof value !== 'string') return false;
  const text = value.trim();
  const percent = text.endsWith('%');
  const number = percent ? text.slice(0, -1).trim() : text;
  if (!/^\d+(\.\d+)?$|^\.\d+$/.test(number)) return false;
  const share = Number(number) * (percent ? 0.01 : 1);
  return share >= 0 && share <= 1;
}

/**
 * The settings as the server wants them. The server drops the whole object
 * when one key has the wrong type, so keys that are empty or malformed are
 * left out (the server then uses qualify.toml's value or its default), and
 * the problems are returned to be shown.
 */
export function serverSettings(raw: RawSettings): { settings: ServerSettings; problems: string[] } {
  const problems: string[] = [];
  const settings: ServerSettings = { noConfig: raw.noConfig === true };
  if (typeof raw.sample === 'string' && raw.sample.trim() !== '') settings.sample = raw.sample.trim();
  for (const key of ['minPassRate', 'maxMissing'] as const) {
    const value = raw[key];
    if (value === undefined || value === null || value === '') continue;
    if (isRate(value)) settings[key] = value;
    else problems.push(`qualify.${key}: ${JSON.stringify(value)} is not a share like 0.01 or "1%"; ignored`);
  }
  if (typeof raw.asOf === 'string' && raw.asOf.trim() !== '') {
    if (isDate(raw.asOf.trim())) settings.asOf = raw.asOf.trim();
    else problems.push(`qualify.asOf: "${raw.asOf}" is not a date YYYY-MM-DD; ignored`);
  }
  return { settings, problems };
}

// ------------------------------------------------------------------ arguments

export function testArgs(target: string, asOf?: string): string[] {
  const args = ['test', target];
  if (asOf && isDate(asOf)) args.push('--as-of', asOf);
  return args;
}

export function explainLeadArgs(policy: string, leadJson: string, asOf?: string): string[] {
  const args = ['explain', policy, '--lead', leadJson];
  if (asOf && isDate(asOf)) args.push('--as-of', asOf);
  return args;
}

export function explainRowArgs(policy: string, sample: string, row: number, asOf?: string): string[] {
  const args = ['explain', policy, sample, '--row', String(row)];
  if (asOf && isDate(asOf)) args.push('--as-of', asOf);
  return args;
}

// ------------------------------------------------------------------ user input

/** Why the text is not a lead (a JSON object), or undefined when it is. */
export function validateLeadJson(text: string): string | undefined {
  if (text.trim() === '') return 'Paste a lead as a JSON object, e.g. {"budget": 40000, "demo requested": true}';
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return `Not valid JSON: ${err instanceof Error ? err.message : String(err)}`;
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    const kind = value === null ? 'null' : Array.isArray(value) ? 'an array' : `a ${typeof value}`;
    return `A lead is a JSON object ({"field": value, …}), not ${kind}`;
  }
  return undefined;
}

/** The lead as one line of JSON (what `--lead` gets). */
export function normalizeLeadJson(text: string): string {
  return JSON.stringify(JSON.parse(text));
}

/** Why the text is not a row number (1, 2, …), or undefined when it is. */
export function validateRow(text: string): string | undefined {
  const t = text.trim();
  if (!/^\d+$/.test(t) || Number(t) < 1) return 'A row number: 1 for the first lead of the file, 2 for the second, …';
  if (!Number.isSafeInteger(Number(t))) return 'That row number is too large';
  return undefined;
}

// ------------------------------------------------------------------ output

export interface TestSummary {
  passed: number;
  failed: number;
}

/** The closing `N passed, N failed` line of `qualify test`. */
export function parseTestSummary(output: string): TestSummary | undefined {
  const lines = output.split(/\r?\n/).reverse();
  for (const line of lines) {
    const m = /^\s*(\d+) passed, (\d+) failed\s*$/.exec(line);
    if (m) return { passed: Number(m[1]), failed: Number(m[2]) };
  }
  return undefined;
}

export interface TestOutcome {
  kind: 'passed' | 'failed' | 'none' | 'error';
  message: string;
}

/** One line for the notification after `qualify test`. */
export function summarizeTestRun(target: string, code: number | null, stdout: string, stderr: string): TestOutcome {
  const summary = parseTestSummary(stdout);
  const firstError = stderr.split(/\r?\n/).find((l) => /^\s*error:/.test(l))?.trim();
  if (!summary) {
    const why = firstError ?? (stderr.trim().split(/\r?\n/)[0] || `exit status ${code}`);
    return { kind: 'error', message: `Qualify: could not run the tests of ${target}: ${why}` };
  }
  const { passed, failed } = summary;
  if (passed + failed === 0) {
    return { kind: 'none', message: `Qualify: no tests in ${target}` };
  }
  const counts = `${passed} passed, ${failed} failed`;
  if (failed === 0 && code === 0) return { kind: 'passed', message: `Qualify: ${counts} (${target})` };
  const blocked = /tests cannot run/.test(stdout) ? ' — a policy has errors, so its tests did not run' : '';
  return { kind: 'failed', message: `Qualify: ${counts} (${target})${blocked}` };
}

/** The first line of an error the CLI printed (`error: …`), else all of stderr. */
export function cliError(stderr: string, code: number | null): string {
  const line = stderr.split(/\r?\n/).find((l) => /^\s*error:/.test(l));
  if (line) return line.trim().replace(/^error:\s*/, '');
  const text = stderr.trim();
  return text !== '' ? text : `exit status ${code}`;
}

// ------------------------------------------------------------------ qualify.toml

/** The `file` of the `[sample]` table of a qualify.toml (a small TOML subset). */
export function sampleFromQualifyToml(text: string): string | undefined {
  let table = '';
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.replace(/^\s+/, '');
    if (line.startsWith('#') || line === '') continue;
    const header = /^\[\s*([A-Za-z0-9_.-]+)\s*\]/.exec(line);
    if (header) {
      table = header[1] ?? '';
      continue;
    }
    if (table !== 'sample') continue;
    const m = /^file\s*=\s*(?:"((?:[^"\\]|\\.)*)"|'([^']*)')/.exec(line);
    if (m) {
      if (m[2] !== undefined) return m[2];
      try {
        return JSON.parse(`"${m[1]}"`) as string;
      } catch {
        return m[1];
      }
    }
  }
  return undefined;
}

/**
 * The sample file of the nearest qualify.toml at or above the policy's
 * folder (as `qualify check` finds it), made absolute.
 */
export function sampleForPolicy(policy: string, readFile: (f: string) => string | undefined = readIfFile): string | undefined {
  let dir = path.dirname(path.resolve(policy));
  for (;;) {
    const toml = path.join(dir, 'qualify.toml');
    const text = readFile(toml);
    if (text !== undefined) {
      const file = sampleFromQualifyToml(text);
      return file === undefined ? undefined : path.resolve(dir, file);
    }
    const parent = path.dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

function readIfFile(file: string): string | undefined {
  try {
    return fs.statSync(file).isFile() ? fs.readFileSync(file, 'utf8') : undefined;
  } catch {
    return undefined;
  }
}

/** A setting's path: absolute as it is, else relative to the folder. */
export function resolveAgainst(folder: string | undefined, file: string): string {
  if (path.isAbsolute(file) || !folder) return file;
  return path.resolve(folder, file);
}

// ------------------------------------------------------------------ processes

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Set when the process could not be started (ENOENT, EACCES, …). */
  spawnError?: NodeJS.ErrnoException;
}

/** Run a program with an argument array (no shell) and collect its output. */
export function run(
  bin: string,
  args: string[],
  options: { cwd?: string; timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(
      bin,
      args,
      {
        cwd: options.cwd,
        env: { ...(options.env ?? process.env), NO_COLOR: '1' },
        timeout: options.timeoutMs ?? 120_000,
        maxBuffer: 64 * 1024 * 1024,
        encoding: 'utf8',
        windowsHide: true,
      },
      (error, stdout, stderr) => {
        if (error && typeof (error as NodeJS.ErrnoException).code === 'string') {
          // The program did not start (or was killed before it could finish).
          const errno = error as NodeJS.ErrnoException;
          if (errno.code === 'ENOENT' || errno.code === 'EACCES' || errno.code === 'ENOEXEC' || errno.code === 'EPERM') {
            resolve({ code: null, stdout: stdout ?? '', stderr: stderr ?? '', spawnError: errno });
            return;
          }
        }
        const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        resolve({ code, stdout: stdout ?? '', stderr: stderr ?? '' });
      },
    );
  });
}
