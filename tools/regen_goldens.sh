#!/usr/bin/env bash
# Regenerates the goldens after an intended change of results. Review the
# diff before committing it.
#
#   tools/regen_goldens.sh [--seeds N]     (default 5)
#
# 1. spat/testdata/numeric_goldens.pt: the building blocks on formula-made
#    inputs (//spat:numeric_golden_test), and numeric_goldens.txt: where.
# 2. benchmarks/goldens/ci_golden.textproto: the CI protocol
#    (benchmarks/goldens/ci_protocol.textproto) trained with seeds 1..N and
#    natural training once; golden_test's tolerance is derived from the
#    spread of these runs. N runs take about 4 minutes each on one core.
#    Finished runs in $SPAT_GOLDEN_WORK (default: a fresh temporary folder)
#    are reused, so an interrupted regeneration continues.
set -euo pipefail
cd "$(dirname "$0")/.."
seeds=5
if [[ "${1:-}" == "--seeds" ]]; then seeds=$2; shift 2; fi
[[ "$seeds" =~ ^[0-9]+$ && "$seeds" -ge 3 ]] || {
  echo "error: --seeds must be at least 3 (the tolerance needs a spread)" >&2; exit 2; }
work=${SPAT_GOLDEN_WORK:-$(mktemp -d)}
mkdir -p "$work"
machine="$(lscpu | sed -n 's/^Model name: *//p' | head -1), $(nproc) cores, 1 thread, LibTorch $(dpkg-query -W -f='${Version}' libtorch-dev 2>/dev/null || echo unknown)"

SPAT_REGEN_GOLDENS=1 bazel run //spat:numeric_golden_test
printf 'spat/testdata/numeric_goldens.pt was made on %s, %s, by\nSPAT_REGEN_GOLDENS=1 bazel run //spat:numeric_golden_test (tools/regen_goldens.sh).\n' \
  "$machine" "$(date -u +%Y-%m-%d)" > spat/testdata/numeric_goldens.txt

bazel build //spat:train
train=bazel-bin/spat/train
# value KEY DIR: clean_accuracy / pgd_accuracy of a finished run.
value() { sed -n "s/^ *\"$1\": \([0-9.e+-]*\),*$/\1/p" "$2/metrics.json" | head -1; }
run() {  # run DIR FLAGS...: trains unless DIR holds a finished run
  local dir=$1; shift
  if [[ -s "$dir/metrics.json" && -n "$(value clean_accuracy "$dir")" ]] &&
     grep -q '"epoch": 2' "$dir/metrics.json"; then
    echo "reusing $dir"; return
  fi
  echo "training $dir"
  "$train" --config=benchmarks/goldens/ci_protocol.textproto "$@" --out_dir="$dir" > "$dir.log" 2>&1 ||
    { echo "error: training failed, see $dir.log" >&2; exit 1; }
}
clean=() pgd=()
for s in $(seq 1 "$seeds"); do
  run "$work/ci_spat_$s" --seed="$s"
  clean+=("$(value clean_accuracy "$work/ci_spat_$s")")
  pgd+=("$(value pgd_accuracy "$work/ci_spat_$s")")
done
run "$work/ci_natural_1" --method=natural --seed=1
out=benchmarks/goldens/ci_golden.textproto
{
  echo "# Written by tools/regen_goldens.sh; see benchmarks/golden_test.cc."
  echo "machine: \"$machine\""
  echo "made: \"$(date -u +%Y-%m-%d), seeds 1..$seeds of benchmarks/goldens/ci_protocol.textproto\""
  for v in "${clean[@]}"; do echo "clean_runs: $v"; done
  for v in "${pgd[@]}"; do echo "pgd_runs: $v"; done
  echo "natural_clean: $(value clean_accuracy "$work/ci_natural_1")"
  echo "natural_pgd: $(value pgd_accuracy "$work/ci_natural_1")"
} > "$out"
echo "updated $out:"
cat "$out"
