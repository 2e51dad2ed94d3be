#!/bin/bash
# fuzzer_test.sh FUZZER SEED... : runs FUZZER for ${FUZZ_SECONDS:-10} seconds
# from the seeds. New inputs (libFuzzer) go to a scratch directory, never into
# the committed corpus. Fails on a crash, a sanitizer report or an invariant.
set -euo pipefail
fuzzer="$1"; shift
scratch="${TEST_TMPDIR}/new_inputs"
mkdir -p "$scratch"
"$fuzzer" -max_total_time="${FUZZ_SECONDS:-10}" -seed=1 "$scratch" "$@" 2>&1 | tail -5
echo PASS
