#!/usr/bin/env bash
# Training throughput of our SPAT step against PyTorch on this machine, in
# alternating rounds so that every contender sees the same load:
#
#   tools/throughput_ratio.sh [MODEL] [ROUNDS] [--iters=N] [--cmake_build=DIR]
#   tools/throughput_ratio.sh small_cnn 3
#   tools/throughput_ratio.sh resnet18 1
#
# SPAT, batch 128, 10 inner steps, threads = cores. Each round runs, in turn:
#   ours 1.13        //benchmarks:train_throughput (Bazel, Debian's LibTorch 1.13)
#   ours 1.13 bf16   the same with --bf16 (where the CPU has AVX512-BF16)
#   ours 2.11        DIR/train_throughput of a CMake build against the torch
#                    package (default build-cmake; skipped when absent)
#   ours 2.11 bf16
#   eager 1.13       tools/eager_reference.py under Debian's python3-torch
#   eager 2.11       ... under the torch package tools/setup.sh installed
#   compiled 2.11    ... with --compile=default (torch.compile, inductor)
# Our binaries tune two process-level settings by default (glibc malloc keeps
# freed tensor buffers, OpenBLAS runs single-threaded: base/process_tuning.h);
# every PyTorch run here gets the same through the environment, the fair
# comparison of step implementations ("eager 2.11 plain" is eager as a user
# runs it, without them). A contender that is not installed is left out and
# said so. Prints one line per contender and round, then the ratios of the
# best-of-rounds img/s against each PyTorch contender.
set -euo pipefail
cd "$(dirname "$0")/.."
model=${1:-small_cnn}
rounds=${2:-3}
shift $(( $# > 2 ? 2 : $# )) || true
iters=8
[[ "$model" == resnet18 ]] && iters=2
cmake_build=build-cmake
for a in "$@"; do
  case $a in
    --iters=*) iters=${a#*=} ;;
    --cmake_build=*) cmake_build=${a#*=} ;;
    *) echo "throughput_ratio: unknown argument '$a'" >&2; exit 2 ;;
  esac
done
threads=$(nproc)
source tools/torch_package.sh
venv_python=$SPAT_TORCH_PACKAGE_PYTHON
bf16=0
grep -q avx512_bf16 /proc/cpuinfo && bf16=1

declare -A cmd
order=()
add() { order+=("$1"); cmd[$1]=$2; }
bazel build //benchmarks:train_throughput 2>/dev/null
ours_args="--method=spat --model=$model --batch_size=128 --num_steps=10 --iters=$iters --threads=$threads"
add "ours 1.13" "bazel-bin/benchmarks/train_throughput $ours_args"
((bf16)) && add "ours 1.13 bf16" "bazel-bin/benchmarks/train_throughput $ours_args --bf16"
if [[ -x $cmake_build/train_throughput ]]; then
  add "ours 2.11" "$cmake_build/train_throughput $ours_args"
  ((bf16)) && add "ours 2.11 bf16" "$cmake_build/train_throughput $ours_args --bf16"
else
  echo "no $cmake_build/train_throughput (the CMake build against the torch package): ours 2.11 left out"
fi
env_settings="MALLOC_MMAP_THRESHOLD_=33554432 MALLOC_TRIM_THRESHOLD_=1073741824 MALLOC_TOP_PAD_=67108864 OPENBLAS_NUM_THREADS=1"
eager_args="tools/eager_reference.py --model $model --batch 128 --steps 10 --iters $iters --threads $threads"
if /usr/bin/python3 -c 'import torch' 2>/dev/null; then
  add "eager 1.13" "env $env_settings /usr/bin/python3 $eager_args"
else
  echo "no python3-torch (apt-get install python3-torch): eager 1.13 left out"
fi
if "$venv_python" -c 'import torch' 2>/dev/null; then
  add "eager 2.11" "env $env_settings $venv_python $eager_args"
  add "eager 2.11 plain" "$venv_python $eager_args"
  add "compiled 2.11" "env $env_settings $venv_python $eager_args --compile=default"
else
  echo "no torch package at $venv_python (tools/setup.sh): eager and compiled 2.11 left out"
fi

declare -A best
for r in $(seq 1 "$rounds"); do
  for name in "${order[@]}"; do
    v=$(${cmd[$name]} 2>/dev/null | sed -n 's/.*"img_per_s": *\([0-9.]*\).*/\1/p' | tail -n 1)
    [[ -n $v ]] || { echo "round $r: $name: no result (${cmd[$name]})" >&2; continue; }
    echo "round $r: $model SPAT b128 10 steps, $threads threads, $name: $v img/s"
    best[$name]=$(awk -v a="${best[$name]:-0}" -v b="$v" 'BEGIN { print (b > a ? b : a) }')
  done
done
echo "best of $rounds round(s), img/s: $(for n in "${order[@]}"; do printf '%s %s; ' "$n" "${best[$n]:-?}"; done)"
for ours in "${order[@]}"; do
  [[ $ours == ours* && -n ${best[$ours]:-} ]] || continue
  line="ratios of $ours:"
  for ref in "${order[@]}"; do
    [[ $ref == ours* || -z ${best[$ref]:-} ]] && continue
    line+=" vs $ref $(awk -v a="${best[$ours]}" -v b="${best[$ref]}" 'BEGIN { printf "%.2f", a / b }');"
  done
  echo "$line"
done
