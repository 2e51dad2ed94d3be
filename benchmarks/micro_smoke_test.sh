#!/bin/bash
# Runs //benchmarks:micro on the losses and the small models and checks that
# every expected benchmark reported a positive items_per_second.
set -euo pipefail
micro="${TEST_SRCDIR}/${TEST_WORKSPACE}/benchmarks/micro"
out="${TEST_TMPDIR}/micro.json"
"$micro" --threads=2 --benchmark_min_time=0.01 \
  --benchmark_filter='BM_Loss_.*/128|small_cnn|lenet5' \
  --benchmark_format=json --benchmark_out="$out" > /dev/null
for name in BM_Loss_CE/128 BM_Loss_SPAT/128 BM_Loss_TRADES/128 BM_Loss_MART/128 \
            BM_Loss_ALP/128 BM_Loss_DLR/128 BM_ModelForwardBackward/small_cnn \
            BM_ModelForwardBackward/lenet5 BM_PgdStep/small_cnn BM_PgdStep/lenet5 \
            BM_TrainStep/spat/small_cnn BM_TrainStep/trades/small_cnn BM_TrainStep/madry/small_cnn \
            BM_TrainStep/seat/small_cnn; do
  if ! grep -q "\"name\": \"$name[/\"]" "$out"; then
    echo "FAIL: $name missing from the report"; cat "$out"; exit 1
  fi
done
if grep -q '"error_occurred": true' "$out"; then
  echo "FAIL: a benchmark reported an error"; grep -B3 -A3 error_message "$out"; exit 1
fi
# items_per_second must be positive for every run.
if grep '"items_per_second"' "$out" | grep -qv '"items_per_second": [1-9]'; then
  echo "FAIL: a zero or malformed rate"; grep items_per_second "$out"; exit 1
fi
# A bad flag is a usage error (exit 2), not a crash.
set +e
"$micro" --threads=0 > /dev/null 2>&1; rc=$?
set -e
[ "$rc" = 2 ] || { echo "FAIL: --threads=0 exited $rc, want 2"; exit 1; }
echo PASS
