#!/usr/bin/env bash
# Runs a table binary's smoke preset end to end and checks its outputs:
#   smoke_test.sh BINARY [--rerun] [--seeds=N] [--no_paper] TABLE_ID...
# --rerun runs it a second time and checks that no finished cell is retrained.
# --seeds=N trains N runs per cell and checks mean ± sd, every run in the
# JSON, and the claims section.
# --no_paper: a table the paper does not have (its cells show "(—)").
set -euo pipefail
bin=$1
shift
rerun=0
seeds=1
if [[ "${1:-}" == "--rerun" ]]; then rerun=1; shift; fi
if [[ "${1:-}" == --seeds=* ]]; then seeds=${1#--seeds=}; shift; fi
paper='\([0-9.]+\)'
if [[ "${1:-}" == "--no_paper" ]]; then paper='\(—\)'; shift; fi
out="${TEST_TMPDIR:-$(mktemp -d)}/out"
"$bin" --preset=smoke --seeds="$seeds" --threads=1 --out_dir="$out" > "$out.stdout" 2> "$out.stderr" || {
  echo "FAILED: $bin exited $?"; tail -20 "$out.stderr"; exit 1; }
for id in "$@"; do
  for ext in md json; do
    [[ -s "$out/$id.$ext" ]] || { echo "FAILED: missing $out/$id.$ext"; exit 1; }
  done
  grep -q "Our protocol" "$out/$id.md" || { echo "FAILED: $id.md has no protocol"; exit 1; }
  grep -q "Paper's protocol" "$out/$id.md" || { echo "FAILED: $id.md lacks the paper's protocol"; exit 1; }
  # Every data row carries ours and the paper's number: "**x.xx** (y.yy)",
  # with more than one run "**x.xx ± s.ss** (y.yy)".
  if [[ $seeds -gt 1 ]]; then cell="\\*\\*[0-9.]+ ± [0-9.]+\\*\\* $paper"; else cell="\\*\\*[0-9.]+\\*\\* $paper"; fi
  rows=$(grep -cE "^\| [^-].*$cell" "$out/$id.md" || true)
  [[ "$rows" -ge 3 ]] || { echo "FAILED: $id.md has $rows rows with paper numbers"; cat "$out/$id.md"; exit 1; }
  grep -q '"preset": "smoke"' "$out/$id.json" || { echo "FAILED: $id.json"; exit 1; }
  grep -q "over n = $seeds run" "$out/$id.md" || { echo "FAILED: $id.md does not say n = $seeds"; exit 1; }
  if [[ $seeds -gt 1 ]]; then
    grep -q "\"seeds\": $seeds" "$out/$id.json" || { echo "FAILED: $id.json lacks seeds"; exit 1; }
    grep -q '"runs"' "$out/$id.json" || { echo "FAILED: $id.json keeps no runs"; exit 1; }
    grep -qE "(The paper's claims|Claims), tested on our runs" "$out/$id.md" || {
      echo "FAILED: $id.md has no claims section"; exit 1; }
    grep -qE '^- \*\*(holds|contradicted|inconclusive|not judged)\*\*' "$out/$id.md" || {
      echo "FAILED: $id.md lists no claim outcome"; exit 1; }
    # The smoke preset trains one epoch: no cell has converged, so its claims
    # are not judged, and the curves are in the JSON.
    grep -q '\*not converged\*' "$out/$id.md" || { echo "FAILED: $id.md marks no cell not converged"; exit 1; }
    grep -qE '^- \*\*not judged\*\*' "$out/$id.md" || { echo "FAILED: $id.md judges claims on unconverged cells"; exit 1; }
    grep -q '"curves"' "$out/$id.json" || { echo "FAILED: $id.json keeps no curves"; exit 1; }
  fi
done
if [[ $rerun -eq 1 ]]; then
  "$bin" --preset=smoke --seeds="$seeds" --threads=1 --out_dir="$out" > /dev/null 2> "$out.stderr2"
  if grep -q "^\[.*\] training" "$out.stderr2"; then
    echo "FAILED: the second run retrained a finished cell"; exit 1
  fi
  grep -q "finished earlier" "$out.stderr2" || { echo "FAILED: no cell was reused"; exit 1; }
fi
echo "PASSED: $bin smoke"
