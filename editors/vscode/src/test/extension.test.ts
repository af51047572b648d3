// VS Code cannot run here, so this loads out/extension.js against a stand-in
// `vscode` module: it checks that activation registers the commands, that a
// missing binary gives an error with an "Open Settings" button instead of
// failing silently, and (with QUALIFY_BIN) that the real language client
// starts `qualify lsp`, completes the initialize handshake with the
// settings as initializationOptions, and stops it.
import { strict as assert } from 'node:assert';
import Module = require('node:module');
import { describe, it } from 'node:test';

type AnyFn = (...args: unknown[]) => unknown;

/** Anything: every property, call and `new` gives another stand-in. */
function anything(): unknown {
  const target = function () {
    /* stand-in */
  };
  return new Proxy(target, {
    get: (t, prop) => {
      if (prop === 'prototype') return t.prototype;
      if (prop === Symbol.toPrimitive) return () => '';
      if (prop === 'then') return undefined; // not a promise
      return anything();
    },
    apply: () => anything(),
    construct: () => anything() as object,
  });
}

const errors: { message: string; items: unknown[] }[] = [];
const serverErrors: string[] = [];
const commands: string[] = [];
let settings: Record<string, unknown> = {};

class EventEmitter {
  event = (): { dispose(): void } => ({ dispose() {} });
  fire(): void {}
  dispose(): void {}
}

const disposable = { dispose() {} };
const stub = new Proxy(
  {
    version: '1.91.0',
    env: { appName: 'Visual Studio Code', language: 'en', uiKind: 1 },
    EventEmitter,
    Disposable: class {
      static from(): typeof disposable {
        return disposable;
      }
      dispose(): void {}
    },
    window: new Proxy(
      {
        // A LogOutputChannel, as the language client asks for.
        createOutputChannel: (name: string) => ({
          name,
          logLevel: 0,
          onDidChangeLogLevel: () => disposable,
          appendLine() {},
          append() {},
          replace() {},
          show() {},
          hide() {},
          clear() {},
          dispose() {},
          trace() {},
          debug() {},
          info() {},
          warn() {},
          error: (line: string) => serverErrors.push(line),
        }),
        showErrorMessage: (message: string, ...items: unknown[]) => {
          errors.push({ message, items });
          return Promise.resolve(undefined);
        },
        showWarningMessage: () => Promise.resolve(undefined),
      } as Record<string, unknown>,
      { get: (t, p: string) => (p in t ? t[p] : anything()) },
    ),
    workspace: new Proxy(
      {
        workspaceFolders: undefined,
        textDocuments: [],
        getConfiguration: () => ({ get: (key: string, def?: unknown) => (key in settings ? settings[key] : def) }),
        registerTextDocumentContentProvider: () => disposable,
        onDidChangeConfiguration: () => disposable,
        onDidCloseTextDocument: () => disposable,
      } as Record<string, unknown>,
      { get: (t, p: string) => (p in t ? t[p] : anything()) },
    ),
    commands: new Proxy(
      {
        registerCommand: (name: string) => {
          commands.push(name);
          return disposable;
        },
      } as Record<string, unknown>,
      { get: (t, p: string) => (p in t ? t[p] : anything()) },
    ),
  } as Record<string, unknown>,
  { get: (t, p: string) => (p in t ? t[p] : anything()) },
);

const mod = Module as unknown as { _load: AnyFn };
const load = mod._load;
mod._load = function (this: unknown, ...args: unknown[]) {
  if (args[0] === 'vscode') return stub;
  return load.apply(this, args);
};

interface StartedClient {
  isRunning(): boolean;
  initializeResult?: { serverInfo?: { name: string } };
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const ext = require('../extension') as {
  activate(ctx: unknown): Promise<void>;
  deactivate(): Promise<void>;
  languageClient(): StartedClient | undefined;
};

describe('extension activation (stand-in vscode)', () => {
  it('registers the commands and reports a missing binary with Open Settings', async () => {
    settings = { path: '/nonexistent/bin/qualify' };
    await ext.activate({ subscriptions: [] });
    assert.deepEqual(commands.sort(), ['qualify.explainLead', 'qualify.restartServer', 'qualify.runTests']);
    assert.equal(errors.length, 1, JSON.stringify(errors));
    assert.match(errors[0]?.message ?? '', /qualify binary was not found at `\/nonexistent\/bin\/qualify`/);
    assert.match(errors[0]?.message ?? '', /cargo install --path \./);
    assert.ok(errors[0]?.items.includes('Open Settings'));
    assert.equal(ext.languageClient(), undefined);
    await ext.deactivate();
  });

  const bin = process.env.QUALIFY_BIN;
  it('starts qualify lsp and stops it', { skip: bin ? false : 'QUALIFY_BIN is not set' }, async () => {
    errors.length = 0;
    commands.length = 0;
    settings = { path: bin, sample: '', minPassRate: '5%', maxMissing: null, noConfig: true, asOf: '2026-06-01' };
    await ext.activate({ subscriptions: [] });
    assert.deepEqual(errors, [], `errors: ${JSON.stringify(errors)}; server: ${serverErrors.join('\n')}`);
    const client = ext.languageClient();
    assert.ok(client?.isRunning(), serverErrors.join('\n'));
    assert.equal(client?.initializeResult?.serverInfo?.name, 'qualify');
    await ext.deactivate();
    assert.equal(ext.languageClient(), undefined);
    assert.equal(client?.isRunning(), false);
  });
});
