#!/bin/bash
# tools/fuzz.sh [TARGET|all] [SECONDS]: builds the libFuzzer targets with clang
# (bazel --config=fuzz, in a separate output base so the default gcc build is
# not invalidated) and runs each for SECONDS (default 600) from the committed
# seeds in fuzz/corpus/<target>. New interesting inputs go to
# ${FUZZ_WORK:-/tmp/spat-fuzz}/<target>; crashes are written there as
# crash-* files. Turn a crash into a regression test by adding the file to
# fuzz/corpus/<target> (every corpus file runs in `bazel test //fuzz:all`).
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
target="${1:-all}"
seconds="${2:-600}"
work="${FUZZ_WORK:-/tmp/spat-fuzz}"
base="${FUZZ_OUTPUT_BASE:-$HOME/.cache/spat-bazel-fuzz}"
if ! command -v clang++ > /dev/null; then
  echo "error: clang++ not found; install clang and libclang-rt-14-dev (tools/setup.sh does)" >&2
  exit 2
fi
targets=(idx cifar10 npy checkpoint)
[ "$target" = all ] || targets=("$target")
labels=()
for t in "${targets[@]}"; do
  [ -f "fuzz/${t}_fuzzer.cc" ] || { echo "error: no fuzz target '$t' (have: idx cifar10 npy checkpoint)" >&2; exit 2; }
  labels+=("//fuzz:${t}_fuzzer")
done
bazel --output_base="$base" build --config=fuzz "${labels[@]}"
bin="$(bazel --output_base="$base" info --config=fuzz bazel-bin 2>/dev/null)"
export LSAN_OPTIONS="suppressions=$root/tools/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
status=0
for t in "${targets[@]}"; do
  mkdir -p "$work/$t"
  # libFuzzer takes directories (a plain file argument would only be replayed).
  [ "$t" = checkpoint ] && cp models/testdata/small_cnn_io.pt models/testdata/lenet5_wrapped_io.pt "$work/$t/"
  echo "== $t: ${seconds}s, log in $work/$t.log"
  rc=0
  (cd "$work/$t" && "$bin/fuzz/${t}_fuzzer" -max_total_time="$seconds" -print_final_stats=1 \
      "$work/$t" "$root/fuzz/corpus/$t") > "$work/$t.log" 2>&1 || rc=$?
  grep -E "^(Done|stat::number_of_executed_units|stat::new_units_added|SUMMARY)|ERROR|crash-" "$work/$t.log" || true
  if [ "$rc" != 0 ]; then
    echo "FAIL: $t exited $rc; see $work/$t.log"
    status=1
  fi
done
exit $status
