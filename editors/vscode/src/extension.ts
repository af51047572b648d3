// The Qualify extension: starts `qualify lsp` and adds the Run Tests,
// Explain Lead… and Restart Language Server commands. The logic that needs
// no editor (paths, arguments, parsing) is in cli.ts.

import * as path from 'path';
import * as vscode from 'vscode';
import {
  DidChangeConfigurationNotification,
  LanguageClient,
  LanguageClientOptions,
  ServerOptions,
} from 'vscode-languageclient/node';
import {
  binaryMissingMessage,
  cliError,
  explainLeadArgs,
  isDate,
  explainRowArgs,
  normalizeLeadJson,
  RawSettings,
  resolveAgainst,
  resolveBinary,
  run,
  sampleForPolicy,
  serverSettings,
  ServerSettings,
  summarizeTestRun,
  testArgs,
  validateLeadJson,
  validateRow,
} from './cli';

const LANGUAGE = 'qualify';
const EXPLAIN_SCHEME = 'qualify-explain';
const OPEN_SETTINGS = 'Open Settings';
const SHOW_OUTPUT = 'Show Output';

let client: LanguageClient | undefined;
let output: vscode.OutputChannel;
let lastSettings: ServerSettings | undefined;
/** Policies and qualify.toml changing on disk; made once, kept across restarts. */
let watchers: vscode.FileSystemWatcher[] = [];
const explanations = new Map<string, string>();
const explainChanged = new vscode.EventEmitter<vscode.Uri>();

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  output = vscode.window.createOutputChannel('Qualify');
  watchers = [
    vscode.workspace.createFileSystemWatcher('**/*.qual'),
    vscode.workspace.createFileSystemWatcher('**/qualify.toml'),
  ];
  context.subscriptions.push(output, explainChanged, ...watchers);

  context.subscriptions.push(
    vscode.workspace.registerTextDocumentContentProvider(EXPLAIN_SCHEME, {
      onDidChange: explainChanged.event,
      provideTextDocumentContent: (uri) => explanations.get(uri.toString()) ?? '',
    }),
    vscode.commands.registerCommand('qualify.runTests', (uri?: vscode.Uri) => runTests(uri)),
    vscode.commands.registerCommand('qualify.explainLead', () => explainLead()),
    vscode.commands.registerCommand('qualify.restartServer', () => restartServer()),
    vscode.workspace.onDidChangeConfiguration((e) => onConfigurationChanged(e)),
    vscode.workspace.onDidCloseTextDocument((d) => {
      if (d.uri.scheme === EXPLAIN_SCHEME) explanations.delete(d.uri.toString());
    }),
  );

  await startServer();
}

export async function deactivate(): Promise<void> {
  await stopServer();
}

/** The running language client, if any (for tests). */
export function languageClient(): LanguageClient | undefined {
  return client;
}

// ------------------------------------------------------------------ helpers

function config(): vscode.WorkspaceConfiguration {
  return vscode.workspace.getConfiguration('qualify');
}

function firstFolder(): string | undefined {
  return vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
}

function folderOf(uri: vscode.Uri | undefined): string | undefined {
  const folder = uri ? vscode.workspace.getWorkspaceFolder(uri) : undefined;
  return folder?.uri.fsPath ?? firstFolder();
}

/** The binary, or undefined after telling the user why it is missing. */
function binary(): string | undefined {
  const setting = config().get<string>('path', 'qualify');
  const resolved = resolveBinary(setting, { workspaceFolder: firstFolder() });
  if (resolved.found) return resolved.path;
  output.appendLine(`qualify binary not found for qualify.path = "${resolved.setting}"; tried:`);
  for (const t of resolved.tried) output.appendLine(`  ${t}`);
  void showBinaryError(binaryMissingMessage(resolved.setting));
  return undefined;
}

async function showBinaryError(message: string): Promise<void> {
  const choice = await vscode.window.showErrorMessage(message, OPEN_SETTINGS, SHOW_OUTPUT);
  if (choice === OPEN_SETTINGS) {
    await vscode.commands.executeCommand('workbench.action.openSettings', 'qualify.path');
  } else if (choice === SHOW_OUTPUT) {
    output.show(true);
  }
}

function currentSettings(): ServerSettings {
  const c = config();
  const raw: RawSettings = {
    sample: c.get('sample'),
    minPassRate: c.get('minPassRate'),
    maxMissing: c.get('maxMissing'),
    noConfig: c.get('noConfig'),
    asOf: c.get('asOf'),
  };
  const { settings, problems } = serverSettings(raw);
  for (const p of problems) {
    output.appendLine(p);
    void vscode.window.showWarningMessage(`Qualify: ${p}`);
  }
  return settings;
}

/** `qualify.asOf` when it is a date (a bad one is reported by currentSettings). */
function asOf(): string | undefined {
  const value = config().get<string>('asOf', '').trim();
  return isDate(value) ? value : undefined;
}

// ------------------------------------------------------------------ the server

async function startServer(): Promise<void> {
  const bin = binary();
  if (!bin) return;

  const settings = currentSettings();
  lastSettings = settings;
  const serverOptions: ServerOptions = {
    command: bin,
    args: ['lsp'],
    // No `transport`: TransportKind.stdio would append `--stdio`, which
    // `qualify lsp` refuses (exit status 2). Without it the client still
    // talks over stdin/stdout.
    options: { cwd: firstFolder() },
  };
  const clientOptions: LanguageClientOptions = {
    // The server reads policies (and their imports) by path: files only.
    documentSelector: [{ language: LANGUAGE, scheme: 'file' }],
    initializationOptions: settings,
    synchronize: {
      // Settings go to the server from onConfigurationChanged, cleaned up
      // (the server ignores all of them when one has the wrong type).
      fileEvents: watchers,
    },
    outputChannelName: 'Qualify Language Server',
  };

  let c: LanguageClient | undefined;
  try {
    c = new LanguageClient('qualify', 'Qualify Language Server', serverOptions, clientOptions);
    await c.start();
    client = c;
  } catch (err) {
    client = undefined;
    const detail = err instanceof Error ? err.message : String(err);
    output.appendLine(`qualify lsp (${bin}) failed to start: ${detail}`);
    try {
      await c?.dispose();
    } catch {
      // it never ran
    }
    const notStarted = /ENOENT|EACCES|ENOEXEC|spawn/i.test(detail);
    if (notStarted) {
      void showBinaryError(binaryMissingMessage(config().get<string>('path', 'qualify'), `${bin} could not be started: ${detail}`));
    } else {
      // Not awaited: activation must not wait for the user to answer.
      const channel = c?.outputChannel ?? output;
      void vscode.window
        .showErrorMessage(`Qualify: the language server (${bin} lsp) failed to start: ${detail}`, OPEN_SETTINGS, SHOW_OUTPUT)
        .then((choice) => {
          if (choice === OPEN_SETTINGS) void vscode.commands.executeCommand('workbench.action.openSettings', 'qualify.path');
          if (choice === SHOW_OUTPUT) channel.show(true);
        });
    }
  }
}

async function stopServer(): Promise<void> {
  const c = client;
  client = undefined;
  if (c) {
    try {
      await c.stop();
    } catch {
      // already gone
    }
  }
}

async function restartServer(): Promise<void> {
  await stopServer();
  await startServer();
  if (client) void vscode.window.setStatusBarMessage('Qualify: language server restarted', 3000);
}

async function onConfigurationChanged(e: vscode.ConfigurationChangeEvent): Promise<void> {
  if (!e.affectsConfiguration('qualify')) return;
  if (e.affectsConfiguration('qualify.path')) {
    await restartServer();
    return;
  }
  if (e.affectsConfiguration('qualify.trace.server')) return; // the client reads it itself
  const settings = currentSettings();
  // The server keeps the last `asOf` it was given: clearing the setting
  // needs a new server to go back to today.
  if (lastSettings?.asOf !== undefined && settings.asOf === undefined) {
    await restartServer();
    return;
  }
  lastSettings = settings;
  if (client) {
    await client.sendNotification(DidChangeConfigurationNotification.type, { settings: { qualify: settings } });
  }
}

// ------------------------------------------------------------------ Run Tests

async function runTests(uri?: vscode.Uri): Promise<void> {
  let target: vscode.Uri | undefined;
  const editor = vscode.window.activeTextEditor;
  if (uri && uri.scheme === 'file') {
    target = uri;
  } else if (editor && editor.document.languageId === LANGUAGE) {
    if (editor.document.isUntitled) {
      void vscode.window.showErrorMessage('Qualify: save the policy first; `qualify test` reads it from disk.');
      return;
    }
    target = editor.document.uri;
  } else {
    const folders = vscode.workspace.workspaceFolders ?? [];
    const folder = folders.length <= 1 ? folders[0] : await vscode.window.showWorkspaceFolderPick({ placeHolder: 'Run the Qualify tests of which folder?' });
    if (!folder) {
      if (folders.length === 0) void vscode.window.showErrorMessage('Qualify: open a .qual file or a folder to run its tests.');
      return;
    }
    target = folder.uri;
  }
  // `qualify test` reads the files from disk: save the policies first.
  for (const d of vscode.workspace.textDocuments) {
    if (d.isDirty && !d.isUntitled && d.languageId === LANGUAGE) await d.save();
  }

  const bin = binary();
  if (!bin) return;
  const cwd = folderOf(target);
  const shown = cwd && target.fsPath.startsWith(cwd) ? path.relative(cwd, target.fsPath) || '.' : target.fsPath;
  const args = testArgs(shown, asOf());

  output.clear();
  output.appendLine(`$ ${bin} ${args.map(quote).join(' ')}${cwd ? `    (in ${cwd})` : ''}`);
  const result = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Window, title: 'Qualify: running tests' },
    () => run(bin, args, { cwd }),
  );
  if (result.spawnError) {
    output.appendLine(`could not start ${bin}: ${result.spawnError.message}`);
    void showBinaryError(binaryMissingMessage(config().get<string>('path', 'qualify'), result.spawnError.message));
    return;
  }
  if (result.stdout) output.append(result.stdout);
  if (result.stderr) {
    output.appendLine('');
    output.append(result.stderr);
  }
  output.appendLine('');
  output.appendLine(`[exit status ${result.code}]`);

  const outcome = summarizeTestRun(shown, result.code, result.stdout, result.stderr);
  if (outcome.kind === 'passed' || outcome.kind === 'none') {
    const choice = await vscode.window.showInformationMessage(outcome.message, SHOW_OUTPUT);
    if (choice === SHOW_OUTPUT) output.show(true);
  } else {
    output.show(true);
    if (outcome.kind === 'failed') void vscode.window.showWarningMessage(outcome.message, SHOW_OUTPUT).then((c) => c && output.show(true));
    else void vscode.window.showErrorMessage(outcome.message, SHOW_OUTPUT).then((c) => c && output.show(true));
  }
}

function quote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

// ------------------------------------------------------------------ Explain Lead…

interface SourcePick extends vscode.QuickPickItem {
  source: 'json' | 'row';
}

async function explainLead(): Promise<void> {
  const editor = vscode.window.activeTextEditor;
  if (!editor || editor.document.languageId !== LANGUAGE) {
    void vscode.window.showErrorMessage('Qualify: open the policy (.qual) to explain a lead with, then run Explain Lead… again.');
    return;
  }
  const document = editor.document;
  if (document.isUntitled) {
    void vscode.window.showErrorMessage('Qualify: save the policy first; `qualify explain` reads it from disk.');
    return;
  }
  const policy = document.uri.fsPath;
  const folder = folderOf(document.uri);

  const picked = await vscode.window.showQuickPick<SourcePick>(
    [
      { label: 'Paste a lead as JSON', description: '{"budget": 40000, "demo requested": true}', source: 'json' },
      { label: 'Pick a row from the sample lead file', description: 'qualify.sample, qualify.toml, or a file you choose', source: 'row' },
    ],
    { placeHolder: `Explain a lead with ${path.basename(policy)}` },
  );
  if (!picked) return;

  let args: string[];
  let title: string;
  if (picked.source === 'json') {
    const text = await vscode.window.showInputBox({
      title: 'Qualify: Explain Lead',
      prompt: 'The lead as a JSON object, keyed by field name or source column',
      placeHolder: '{"budget": 40000, "demo requested": true}',
      ignoreFocusOut: true,
      validateInput: (value) => validateLeadJson(value),
    });
    if (text === undefined) return;
    args = explainLeadArgs(policy, normalizeLeadJson(text), asOf());
    title = 'pasted lead';
  } else {
    const sample = await chooseSample(policy, folder);
    if (!sample) return;
    const row = await vscode.window.showInputBox({
      title: `Qualify: Explain Lead from ${path.basename(sample)}`,
      prompt: `Which lead of ${sample}? 1 is the first`,
      value: '1',
      ignoreFocusOut: true,
      validateInput: (value) => validateRow(value),
    });
    if (row === undefined) return;
    args = explainRowArgs(policy, sample, Number(row.trim()), asOf());
    title = `${path.basename(sample)} row ${row.trim()}`;
  }

  if (document.isDirty) await document.save();
  const bin = binary();
  if (!bin) return;
  output.appendLine(`$ ${bin} ${args.map(quote).join(' ')}`);
  const result = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: 'Qualify: explaining the lead…' },
    () => run(bin, args, { cwd: folder }),
  );
  if (result.spawnError) {
    void showBinaryError(binaryMissingMessage(config().get<string>('path', 'qualify'), result.spawnError.message));
    return;
  }
  if (result.code !== 0) {
    output.appendLine(result.stderr || result.stdout);
    const choice = await vscode.window.showErrorMessage(`Qualify: could not explain the lead: ${cliError(result.stderr, result.code)}`, SHOW_OUTPUT);
    if (choice === SHOW_OUTPUT) output.show(true);
    return;
  }
  await showExplanation(`Explain ${path.basename(policy)} — ${title}`, result.stdout, args);
}

/** The lead file to take a row from: the setting, qualify.toml, or a file picker. */
async function chooseSample(policy: string, folder: string | undefined): Promise<string | undefined> {
  const setting = config().get<string>('sample', '').trim();
  if (setting !== '') return resolveAgainst(firstFolder() ?? folder, setting);
  const fromToml = sampleForPolicy(policy);
  if (fromToml) return fromToml;
  const picked = await vscode.window.showOpenDialog({
    title: 'Qualify: the lead file to pick a row from (set qualify.sample to skip this)',
    canSelectMany: false,
    defaultUri: folder ? vscode.Uri.file(folder) : undefined,
    filters: { 'Lead files': ['csv', 'jsonl', 'json', 'ndjson'], 'All files': ['*'] },
  });
  return picked?.[0]?.fsPath;
}

async function showExplanation(title: string, text: string, args: string[]): Promise<void> {
  const uri = vscode.Uri.from({
    scheme: EXPLAIN_SCHEME,
    path: '/' + title.replace(/[\\/]/g, '_') + '.txt',
    query: String(Date.now()),
  });
  explanations.set(uri.toString(), `${text.trimEnd()}\n\n# qualify ${args.map(quote).join(' ')}\n`);
  explainChanged.fire(uri);
  const doc = await vscode.workspace.openTextDocument(uri);
  await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.Beside, preview: true, preserveFocus: true });
}
