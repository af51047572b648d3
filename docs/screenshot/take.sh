#!/usr/bin/env bash
# Reproduce docs/images/editor-nvim.png: Neovim (editors/nvim plugin, built-in
# LSP client) on a copy of examples/b2b-saas/policy.qual with one typo, the
# language server's Q0101 diagnostic as virtual text, sign and float.
#
#   docs/screenshot/take.sh [OUTPUT.png]
#
# Needs: nvim (0.7+), tmux, python3, chromium, fonts-jetbrains-mono
#   apt-get install neovim tmux python3 chromium fonts-jetbrains-mono
# and a built binary (QUALIFY_BIN, default target/debug/qualify).
# Nothing in the repository changes except the output image.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="${1:-$root/docs/images/editor-nvim.png}"
bin="${QUALIFY_BIN:-$root/target/debug/qualify}"
cols="${COLS:-120}"
rows="${ROWS:-34}"
colors="${QUALIFY_SHOT_COLORS:-slate}"
scale="${SCALE:-2}"
chromium="${CHROMIUM:-$(command -v chromium || command -v chromium-browser)}"
socket="qualify-shot-$$"

[ -x "$bin" ] || { echo "no qualify binary at $bin (cargo build first)" >&2; exit 1; }

work="$(mktemp -d)"
cleanup() { tmux -L "$socket" kill-server 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

# The policy, with a realistic typo: `engagment` for the score `engagement`.
mkdir -p "$work/b2b-saas"
policy="$work/b2b-saas/policy.qual"
sed 's/^rule hot engagement: engagement >= 50/rule hot engagement: engagment >= 50/' \
  "$root/examples/b2b-saas/policy.qual" >"$policy"
grep -q 'engagment >= 50' "$policy" || { echo "typo not introduced (example changed?)" >&2; exit 1; }

# Neovim in a detached tmux session of exactly cols x rows, no status bar.
cat >"$work/tmux.conf" <<'EOF'
set -g status off
set -g default-terminal tmux-256color
set -ga terminal-overrides ",*:Tc"
set -sg escape-time 0
EOF
tmux -L "$socket" -f "$work/tmux.conf" new-session -d -s shot -x "$cols" -y "$rows" -c "$work" \
  env QUALIFY_BIN="$bin" QUALIFY_NVIM_PLUGIN="$root/editors/nvim" \
      QUALIFY_SHOT_READY="$work/ready" QUALIFY_SHOT_COLORS="$colors" \
      QUALIFY_SHOT_TOP="${QUALIFY_SHOT_TOP:-39}" \
      nvim --clean -u "$here/init.lua" b2b-saas/policy.qual

# init.lua writes $work/ready once the diagnostic is in and the float is open.
for _ in $(seq 1 600); do [ -s "$work/ready" ] && break; sleep 0.1; done
[ -s "$work/ready" ] || {
  echo "timed out waiting for the diagnostic; the screen was:" >&2
  tmux -L "$socket" capture-pane -p -t shot >&2
  exit 1
}
sleep 0.5
tmux -L "$socket" capture-pane -p -t shot >"$work/screen.txt"
tmux -L "$socket" capture-pane -e -p -t shot >"$work/screen.ansi"
cursor="$(tmux -L "$socket" display-message -p -t shot '#{cursor_x},#{cursor_y}')"
grep -q 'unknown name' "$work/screen.txt" || { echo "diagnostic not on screen:" >&2; cat "$work/screen.txt" >&2; exit 1; }

read -r fg bg <"$work/ready"
python3 "$here/ansi2html.py" "$cols" "$fg" "$bg" "$cursor" <"$work/screen.ansi" >"$work/screen.html"
[ -z "${KEEP:-}" ] || cp -r "$work" "$KEEP"

# Measure the rendered terminal, then screenshot exactly that size.
size="$("$chromium" --headless --no-sandbox --disable-gpu --hide-scrollbars \
  --window-size=2000,1400 --dump-dom "file://$work/screen.html" 2>/dev/null |
  sed -n 's/.*data-size="\([0-9]*x[0-9]*\)".*/\1/p' | head -n1)"
[ -n "$size" ] || { echo "could not measure the page" >&2; exit 1; }
w="${size%x*}"; h="${size#*x}"
mkdir -p "$(dirname "$out")"
"$chromium" --headless --no-sandbox --disable-gpu --hide-scrollbars \
  --force-device-scale-factor="$scale" --window-size="$w,$h" \
  --screenshot="$out" "file://$work/screen.html" 2>/dev/null
echo "wrote $out (${w}x${h} CSS px, scale $scale)"
sed -n '/unknown name/p' "$work/screen.txt"
