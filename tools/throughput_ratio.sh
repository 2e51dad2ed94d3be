#!/usr/bin/env bash
# Training throughput of //benchmarks:train_throughput against eager PyTorch
# (Debian's python3-torch) on this machine, in alternating rounds so that
# both see the same load:
#
#   tools/throughput_ratio.sh [MODEL] [ROUNDS] [extra train_throughput flags]
#   tools/throughput_ratio.sh small_cnn 3
#   tools/throughput_ratio.sh resnet18 3 --iters=2
#
# SPAT, batch 128, 10 inner steps, threads = cores. Prints one line per round
# and the ratio ours / eager. Without python3-torch it says so and exits 0.
#
# Our binaries tune two process-level settings by default (glibc malloc keeps
# freed tensor buffers, OpenBLAS runs single-threaded: base/process_tuning.h). Eager
# PyTorch can get the same from the environment, so each round also runs
# eager with them ("eager+env") -- the fair comparison of the two step
# implementations, beside eager as a user runs it.
set -euo pipefail
cd "$(dirname "$0")/.."
model=${1:-small_cnn}
rounds=${2:-3}
shift $(( $# > 2 ? 2 : $# )) || true
threads=$(nproc)
iters=8
[[ "$model" == resnet18 ]] && iters=2
if ! /usr/bin/python3 -c 'import torch' 2> /dev/null; then
  echo "python3-torch is not installed (apt-get install python3-torch): no eager reference"
  exit 0
fi
bazel build //benchmarks:train_throughput 2> /dev/null
ours=bazel-bin/benchmarks/train_throughput
field() { sed -n "s/.*\"$1\": *\([0-9.]*\).*/\1/p"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
for r in $(seq 1 "$rounds"); do
  e=$(/usr/bin/python3 tools/eager_reference.py --model "$model" --batch 128 --steps 10 \
        --iters "$iters" --threads "$threads" | field img_per_s)
  t=$(MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=1073741824 MALLOC_TOP_PAD_=67108864 \
      OPENBLAS_NUM_THREADS=1 /usr/bin/python3 tools/eager_reference.py --model "$model" \
        --batch 128 --steps 10 --iters "$iters" --threads "$threads" | field img_per_s)
  o=$("$ours" --method=spat --model="$model" --batch_size=128 --num_steps=10 --iters="$iters" \
        --threads="$threads" "$@" | field img_per_s)
  echo "round $r: $model SPAT b128 10 steps, $threads threads: ours $o img/s, eager $e img/s" \
       "(ratio $(ratio "$o" "$e")), eager+env $t img/s (ratio $(ratio "$o" "$t"))"
done
