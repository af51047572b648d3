#!/usr/bin/env bash
# Speed benchmark of `qualify run` against a hand-written Rust program and DuckDB.
#
#     bash benches/run/run.sh [ROWS]          # default 1000000 (~150 MB)
#
# 1. generates ROWS leads into target/bench-data/leads-ROWS.csv (once; gen_leads.py);
# 2. builds the baseline (benches/run/baseline, its own target dir);
# 3. times, best of $RUNS (default 3) wall-clock runs, each with its max RSS:
#      qualify run benches/run/policy.qual DATA -o OUT --as-of 2026-06-01
#      the baseline, DuckDB with 1 thread and with 2 threads;
# 4. checks that all outputs agree (compare.py) and prints a markdown table.
# Exits non-zero when the outputs disagree or a tool fails.
#
# target/release/qualify is not built here: build it first with
# `cargo build --release` (without it, or without its `run` command, qualify
# is skipped and the other three are still timed and compared).
set -euo pipefail

ROWS=${1:-1000000}
RUNS=${RUNS:-3}
AS_OF=2026-06-01

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
cd "$ROOT"

DATA_DIR=$ROOT/target/bench-data
DATA=$DATA_DIR/leads-$ROWS.csv
OUT_DIR=$DATA_DIR/out-$ROWS
VENV=$ROOT/target/bench-venv
QUALIFY=${QUALIFY:-$ROOT/target/release/qualify} # override to time another build
BASELINE_TARGET=$ROOT/target/bench-baseline
BASELINE=$BASELINE_TARGET/release/qualify-bench-baseline
POLICY=benches/run/policy.qual

mkdir -p "$DATA_DIR" "$OUT_DIR"

# ---- data -------------------------------------------------------------------
if [[ ! -s $DATA ]]; then
  echo "generating $ROWS leads into $DATA …" >&2
  python3 "$HERE/gen_leads.py" "$ROWS" "$DATA.tmp"
  mv "$DATA.tmp" "$DATA"
fi
BYTES=$(stat -c %s "$DATA")

# ---- tools ------------------------------------------------------------------
echo "building the baseline …" >&2
cargo build --release --quiet --manifest-path "$HERE/baseline/Cargo.toml" \
  --target-dir "$BASELINE_TARGET"

if ! "$VENV/bin/python" -c 'import duckdb' 2>/dev/null; then
  echo "installing duckdb into $VENV …" >&2
  [[ -x $VENV/bin/python ]] || python3 -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet duckdb
fi
DUCKDB_VERSION=$("$VENV/bin/python" -c 'import duckdb; print(duckdb.__version__)')

HAVE_QUALIFY=1
if [[ ! -x $QUALIFY ]]; then
  echo "NOTE: $QUALIFY is missing: build it with \`cargo build --release\` to benchmark it; skipping qualify." >&2
  HAVE_QUALIFY=0
elif ! "$QUALIFY" run --help >/dev/null 2>&1; then
  echo "NOTE: $QUALIFY has no \`run\` command: rebuild it with \`cargo build --release\`; skipping qualify." >&2
  HAVE_QUALIFY=0
fi

# ---- timing -----------------------------------------------------------------
# bench NAME CMD…: runs CMD $RUNS times; sets BEST (s) and RSS (max KiB over runs).
# The stderr of the fastest run is kept in $OUT_DIR/NAME.stderr.
bench() {
  local name=$1
  shift
  BEST=""
  RSS=0
  local i start end secs kib
  for ((i = 1; i <= RUNS; i++)); do
    start=$EPOCHREALTIME
    if ! /usr/bin/time -f %M -o "$OUT_DIR/$name.rss" "$@" >"$OUT_DIR/$name.stdout" 2>"$OUT_DIR/$name.err"; then
      echo "✗ $name failed: $*" >&2
      cat "$OUT_DIR/$name.err" >&2
      exit 1
    fi
    end=$EPOCHREALTIME
    secs=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", b - a }')
    kib=$(tail -n 1 "$OUT_DIR/$name.rss")
    echo "  $name run $i: ${secs} s, max RSS $((kib / 1024)) MiB" >&2
    if [[ -z $BEST ]] || awk -v s="$secs" -v b="$BEST" 'BEGIN { exit !(s < b) }'; then
      BEST=$secs
      cp "$OUT_DIR/$name.err" "$OUT_DIR/$name.stderr"
    fi
    if ((kib > RSS)); then RSS=$kib; fi
  done
  rm -f "$OUT_DIR/$name.err" "$OUT_DIR/$name.rss" "$OUT_DIR/$name.stdout"
}

NAMES=()
declare -A SECS MAXRSS LABEL
record() { # record NAME LABEL
  NAMES+=("$1")
  SECS[$1]=$BEST
  MAXRSS[$1]=$RSS
  LABEL[$1]=$2
}

cat "$DATA" >/dev/null # warm the page cache: every tool reads from memory
echo "timing, best of $RUNS, on $DATA ($ROWS rows, $BYTES bytes) …" >&2

if ((HAVE_QUALIFY)); then
  bench qualify "$QUALIFY" run "$POLICY" "$DATA" -o "$OUT_DIR/qualify.csv" --as-of "$AS_OF"
  record qualify "qualify run"
fi
bench baseline "$BASELINE" "$DATA" "$OUT_DIR/baseline.csv" "$AS_OF"
record baseline "hand-written Rust (csv crate, 1 thread)"
for t in 1 2; do
  bench "duckdb$t" "$VENV/bin/python" "$HERE/duckdb_policy.py" "$DATA" "$OUT_DIR/duckdb$t.csv" \
    --as-of "$AS_OF" --threads "$t"
  record "duckdb$t" "DuckDB $DUCKDB_VERSION, $t thread$([[ $t == 1 ]] || echo s)"
done
if ((HAVE_QUALIFY)); then
  # The same policy compiled by `qualify compile`, run by DuckDB over the CSV.
  "$QUALIFY" compile "$POLICY" --dialect duckdb --table leads --as-of "$AS_OF" -o "$OUT_DIR/compiled.sql"
  for t in 1 2; do
    bench "compiled$t" "$VENV/bin/python" "$HERE/duckdb_compiled.py" "$OUT_DIR/compiled.sql" "$DATA" \
      "$OUT_DIR/compiled$t.csv" --threads "$t"
    record "compiled$t" "DuckDB $DUCKDB_VERSION running \`qualify compile\` SQL, $t thread$([[ $t == 1 ]] || echo s)"
  done
fi

# ---- agreement --------------------------------------------------------------
echo "comparing outputs …" >&2
CMP_ARGS=("baseline=$OUT_DIR/baseline.csv")
if ((HAVE_QUALIFY)); then CMP_ARGS+=(--ordered qualify "qualify=$OUT_DIR/qualify.csv"); fi
CMP_ARGS+=("duckdb1=$OUT_DIR/duckdb1.csv" "duckdb2=$OUT_DIR/duckdb2.csv")
if ((HAVE_QUALIFY)); then CMP_ARGS+=("compiled1=$OUT_DIR/compiled1.csv" "compiled2=$OUT_DIR/compiled2.csv"); fi
AGREE=0
python3 "$HERE/compare.py" "${CMP_ARGS[@]}" >&2 || AGREE=$?

# ---- report -----------------------------------------------------------------
CPU=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
echo
echo "\`qualify run\` benchmark: $ROWS leads, $(awk -v b="$BYTES" 'BEGIN { printf "%.1f", b / 1e6 }') MB CSV" \
  "(benches/run/policy.qual, as of $AS_OF); $(nproc) cores ($CPU); wall clock, best of $RUNS."
echo
echo "| tool | seconds | rows/s | MB/s | max RSS (MiB) |"
echo "|---|---:|---:|---:|---:|"
for n in "${NAMES[@]}"; do
  awk -v label="${LABEL[$n]}" -v s="${SECS[$n]}" -v rows="$ROWS" -v bytes="$BYTES" -v kib="${MAXRSS[$n]}" \
    'BEGIN { printf "| %s | %.3f | %.0f | %.0f | %.0f |\n", label, s, rows / s, bytes / 1e6 / s, kib / 1024 }'
done
echo
for n in duckdb1 duckdb2 compiled1 compiled2; do
  [[ -f $OUT_DIR/$n.stderr ]] || continue
  q=$(sed -n 's/^duckdb [0-9] thread(s): \([0-9.]*\) s$/\1/p' "$OUT_DIR/$n.stderr")
  if [[ -n $q ]]; then
    echo "${LABEL[$n]}: ${q} s of it in the query itself (the rest is Python start-up and \`import duckdb\`)."
  fi
done
if ((!HAVE_QUALIFY)); then
  echo "qualify was skipped: build it with \`cargo build --release\` and run this again."
fi
echo
if ((AGREE == 0)); then
  echo "All outputs agree ($OUT_DIR)."
else
  echo "OUTPUTS DISAGREE (see above; files in $OUT_DIR)."
  exit 1
fi
