#!/usr/bin/env bash
# CI for the VS Code extension: install, compile, test, package, and check
# what the .vsix contains. Run from anywhere; set QUALIFY_BIN to a built
# qualify binary to also check the snippets and the commands' arguments
# against the real CLI.
set -euo pipefail

# QUALIFY_BIN may be relative to where this script was called from.
if [ -n "${QUALIFY_BIN:-}" ]; then
  QUALIFY_BIN=$(cd "$(dirname "$QUALIFY_BIN")" && pwd)/$(basename "$QUALIFY_BIN")
  [ -x "$QUALIFY_BIN" ] || { echo "error: QUALIFY_BIN=$QUALIFY_BIN is not an executable file" >&2; exit 1; }
  export QUALIFY_BIN
fi
cd "$(dirname "$0")"

version=$(node -p 'require("./package.json").version')
vsix="qualify-${version}.vsix"

echo "== npm ci"
npm ci --no-audit --no-fund

echo "== npm run compile"
npm run compile

echo "== npm test (QUALIFY_BIN=${QUALIFY_BIN:-unset: the tests that run the CLI are skipped})"
npm test

echo "== npm run package"
rm -f "$vsix"
npm run package

echo "== checking $vsix"
[ -f "$vsix" ] || { echo "error: $vsix was not created" >&2; exit 1; }
# The .vsix is a zip file: list it with unzip, or Python where unzip is missing.
if command -v unzip >/dev/null 2>&1; then
  listing=$(unzip -l "$vsix")
else
  listing=$(python3 -m zipfile -l "$vsix" | sed 's/^/ /')
fi
missing=0
for entry in \
  extension/package.json \
  extension/out/extension.js \
  extension/out/cli.js \
  extension/syntaxes/qualify.tmLanguage.json \
  extension/snippets/qualify.json \
  extension/language-configuration.json \
  extension/node_modules/vscode-languageclient/package.json \
  extension/node_modules/vscode-languageclient/lib/node/main.js \
  extension/node_modules/vscode-languageserver-protocol/package.json \
  extension/node_modules/vscode-jsonrpc/package.json; do
  if ! grep -qF " $entry" <<<"$listing"; then
    echo "error: $vsix lacks $entry" >&2
    missing=1
  fi
done
for unwanted in extension/src/ extension/test/ extension/out/test/ extension/node_modules/typescript/ extension/node_modules/@vscode/vsce/; do
  if grep -qF " $unwanted" <<<"$listing"; then
    echo "error: $vsix should not contain $unwanted" >&2
    missing=1
  fi
done
[ "$missing" -eq 0 ] || exit 1
echo "$vsix: $(wc -c <"$vsix") bytes, $(grep -c ' extension/' <<<"$listing") files; contents OK"
