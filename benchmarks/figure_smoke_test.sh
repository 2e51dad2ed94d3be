#!/usr/bin/env bash
# Runs a figure/analysis binary's smoke preset and checks its outputs.
#   figure_smoke_test.sh BINARY STEM
set -euo pipefail
out="${TEST_TMPDIR:-$(mktemp -d)}/out"
# Two runs per model: every figure reports mean ± sd over its runs.
"$1" --preset=smoke --seeds=2 --threads=1 --out_dir="$out" > "$out.stdout" 2> "$out.stderr" || {
  echo "FAILED: $1 exited $?"; tail -20 "$out.stderr"; exit 1; }
for ext in md json; do
  [[ -s "$out/$2.$ext" ]] || { echo "FAILED: missing $out/$2.$ext"; exit 1; }
done
grep -q "Protocol" "$out/$2.md" || { echo "FAILED: $2.md states no protocol"; exit 1; }
grep -q " ± .* (n=2)" "$out/$2.md" || { echo "FAILED: $2.md has no mean ± sd over 2 runs"; cat "$out/$2.md"; exit 1; }
if [[ "$2" == figure* ]]; then
  [[ -s "$out/$2.png" ]] || { echo "FAILED: missing $2.png"; exit 1; }
  grep -q '"natural"' "$out/$2.json" && grep -q '"SPAT"' "$out/$2.json" || {
    echo "FAILED: $2.json lacks a model"; exit 1; }
fi
echo "PASSED: $1 smoke"
