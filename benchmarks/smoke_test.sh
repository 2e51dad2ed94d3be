#!/usr/bin/env bash
# Runs a table binary's smoke preset end to end and checks its outputs:
#   smoke_test.sh BINARY [--rerun] TABLE_ID...
# --rerun runs it a second time and checks that no finished cell is retrained.
set -euo pipefail
bin=$1
shift
rerun=0
if [[ "${1:-}" == "--rerun" ]]; then rerun=1; shift; fi
out="${TEST_TMPDIR:-$(mktemp -d)}/out"
# 1 thread: the same numbers on any machine that runs the goldens.
"$bin" --preset=smoke --threads=1 --out_dir="$out" > "$out.stdout" 2> "$out.stderr" || {
  echo "FAILED: $bin exited $?"; tail -20 "$out.stderr"; exit 1; }
for id in "$@"; do
  for ext in md json; do
    [[ -s "$out/$id.$ext" ]] || { echo "FAILED: missing $out/$id.$ext"; exit 1; }
  done
  grep -q "Our protocol" "$out/$id.md" || { echo "FAILED: $id.md has no protocol"; exit 1; }
  grep -q "Paper's protocol" "$out/$id.md" || { echo "FAILED: $id.md lacks the paper's protocol"; exit 1; }
  # Every data row carries ours and the paper's number: "**x.xx** (y.yy)".
  rows=$(grep -c '^| [^-].*\*\*[0-9.]*\*\* ([0-9.]*)' "$out/$id.md" || true)
  [[ "$rows" -ge 3 ]] || { echo "FAILED: $id.md has $rows rows with paper numbers"; exit 1; }
  grep -q '"preset": "smoke"' "$out/$id.json" || { echo "FAILED: $id.json"; exit 1; }
done
if [[ $rerun -eq 1 ]]; then
  "$bin" --preset=smoke --threads=1 --out_dir="$out" > /dev/null 2> "$out.stderr2"
  if grep -q "^\[.*\] training" "$out.stderr2"; then
    echo "FAILED: the second run retrained a finished cell"; exit 1
  fi
  grep -q "finished earlier" "$out.stderr2" || { echo "FAILED: no cell was reused"; exit 1; }
fi
echo "PASSED: $bin smoke"
