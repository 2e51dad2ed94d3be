#!/usr/bin/env bash
# One script for the GPU machine (../shared/GPU.md): build with CMake against
# the torch Python package's LibTorch, run the tests (the CUDA ones included),
# measure our training step against eager PyTorch on the same device, then
# train the MNIST paper protocol (spat/presets/mnist_paper.textproto: SPAT,
# then TRADES, Madry, MART, ALP) until the time budget runs out, resumably,
# and attack each finished model with Table 4's attacks and AutoAttack.
# Prints one JSON line per measurement (also in OUT/results.jsonl) and says
# how far it got; the full log is OUT/gpu_check.log.
#
#   tools/gpu_bundle.sh                      # on the CPU machine, once
#   tools/gpu_check.sh --out "$OUT" --budget_s 480     # on the GPU machine
#   tools/gpu_results.py import OUT/runs.tar.gz        # back here; commit results/
#   tools/gpu_check.sh --out "$OUT" --budget_s 480 --skip_checks   # later calls
#   tools/gpu_check.sh --device=cpu --budget_s 60 --quick   # on a CPU (CI runs this)
#
# Flags:
#   --device cuda|cpu   cuda (default): the CUDA device; cpu: the CPU (the
#                       CUDA cases skip): the rehearsal of a GPU call
#   --libtorch package|system
#                       package (default): build against the torch Python
#                       package's LibTorch, as the GPU machine does (its
#                       python: SPAT_TORCH_PYTHON, else the one tools/setup.sh
#                       installed, tools/torch_package.sh's, else
#                       python3); system: Debian's LibTorch (CPU only)
#   --out DIR           what comes back: gpu_check.log, results.jsonl, ctest.log
#                       and runs.tar.gz (default gpu_check_out)
#   --budget_s N        wall seconds for the whole script (default 480); the
#                       paper protocol gets what is left
#   --bundle DIR        what tools/gpu_bundle.sh made (default gpu_bundle)
#   --build_dir DIR     CMake build tree, reused if present (default build-gpu)
#   --jobs N            build jobs (default: the number of cores)
#   --skip_checks       build only train and evaluate and go straight to the
#                       paper protocol (no tests, no throughput): for calls
#                       after the checks have passed on this GPU
#   --quick             small throughput runs and a 2-epoch, 2,000-image
#                       protocol (the script's own test); not the paper's
# The paper protocol continues the runs in results/mnist_paper/cells/ (see
# results/README.md); quick runs never touch them.
# Exit: 0 when build, tests and measurements passed (training or evaluation
# stopping at the budget is expected); 1 when a step failed; 2 on bad usage.
set -uo pipefail
cd "$(dirname "$0")/.."
root=$PWD

device=cuda
libtorch=package
out=gpu_check_out
budget_s=480
bundle=gpu_bundle
build_dir=build-gpu
jobs=$(nproc)
quick=0
skip_checks=0
usage() { awk 'NR > 1 && /^#/ { print; next } NR > 1 { exit }' "$0"; }
while (($#)); do
  case $1 in
    --device=*) device=${1#*=}; shift ;;
    --device) device=$2; shift 2 ;;
    --libtorch=*) libtorch=${1#*=}; shift ;;
    --libtorch) libtorch=$2; shift 2 ;;
    --out=*) out=${1#*=}; shift ;;
    --out) out=$2; shift 2 ;;
    --budget_s=*) budget_s=${1#*=}; shift ;;
    --budget_s) budget_s=$2; shift 2 ;;
    --bundle=*) bundle=${1#*=}; shift ;;
    --bundle) bundle=$2; shift 2 ;;
    --build_dir=*) build_dir=${1#*=}; shift ;;
    --build_dir) build_dir=$2; shift 2 ;;
    --jobs=*) jobs=${1#*=}; shift ;;
    --jobs) jobs=$2; shift 2 ;;
    --quick) quick=1; shift ;;
    --skip_checks) skip_checks=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "gpu_check: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
case $device in cuda|cpu) ;; *) echo "gpu_check: --device=$device: expected cuda or cpu" >&2; exit 2 ;; esac
case $libtorch in package|system) ;; *) echo "gpu_check: --libtorch=$libtorch: expected package or system" >&2; exit 2 ;; esac
[[ $device == cuda && $libtorch == system ]] &&
  { echo "gpu_check: --device=cuda needs --libtorch=package (Debian's LibTorch has no CUDA)" >&2; exit 2; }
[[ $budget_s =~ ^[0-9]+$ ]] && ((budget_s >= 10)) || { echo "gpu_check: --budget_s=$budget_s: expected an integer >= 10" >&2; exit 2; }
[[ $jobs =~ ^[0-9]+$ ]] && ((jobs >= 1)) || { echo "gpu_check: --jobs=$jobs: expected an integer >= 1" >&2; exit 2; }

mkdir -p "$out"
out=$(cd "$out" && pwd)
[[ $build_dir = /* ]] || build_dir=$root/$build_dir
[[ $bundle = /* ]] || bundle=$root/$bundle
log=$out/gpu_check.log
results=$out/results.jsonl
: >"$log"
: >"$results"
start=$(date +%s)
elapsed() { echo $(($(date +%s) - start)); }
left() { echo $((budget_s - $(elapsed))); }
say() { echo "gpu_check [$(elapsed) s]: $*" | tee -a "$log" >&2; }
emit() { echo "$1" | tee -a "$results"; }
status=0
threads=$(nproc)  # intra-op threads of every run
fail() { say "FAILED: $*"; emit "{\"step\": \"$1\", \"ok\": false, \"seconds\": $(elapsed)}"; status=1; }

# --- where things come from ------------------------------------------------
# The python whose torch is the LibTorch (package) or the eager reference
# (system: Debian's python3-torch, where installed).
python=""
if [[ $libtorch == package ]]; then
  source "$root/tools/torch_package.sh"
  candidates=(${SPAT_TORCH_PYTHON:-} "$SPAT_TORCH_PACKAGE_PYTHON" python3)
else
  candidates=(/usr/bin/python3)
fi
for p in "${candidates[@]}"; do
  if command -v "$p" >/dev/null && "$p" -c 'import torch' 2>/dev/null; then python=$p; break; fi
done
prefix_path=""
torch_build=""
if [[ $libtorch == package ]]; then
  [[ -n $python ]] || { say "no torch package (tried ${candidates[*]}): run tools/setup.sh, or set SPAT_TORCH_PYTHON to a python with torch"; exit 1; }
  prefix_path=$("$python" -c 'import torch; print(torch.utils.cmake_prefix_path)')
  torch_build=$("$python" -c 'import torch; print(torch.__version__, "CUDA", torch.version.cuda)' 2>/dev/null)
  "$python" -c 'import torch, sys; sys.exit(0 if torch.version.cuda else 1)' 2>/dev/null ||
    say "warning: $python's torch ($torch_build) is a CPU-only build: not the GPU machine's build"
  if [[ $device == cuda ]]; then
    "$python" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null ||
      { say "torch sees no CUDA device; use --device=cpu"; exit 1; }
  fi
  # Our CUDA code compiles with the toolkit the package was built for.
  [[ -d /usr/local/cuda/bin ]] && export PATH="/usr/local/cuda/bin:$PATH"
fi
# Libraries CMake finds: the system's (Debian with the -dev packages), else
# the bundle's .debs unpacked into a prefix.
if [[ ! -d /usr/lib/x86_64-linux-gnu/cmake/absl ]]; then
  debs=$bundle/debs
  ls "$debs"/*.deb >/dev/null 2>&1 || { say "no Abseil here and no .debs in $debs: run tools/gpu_bundle.sh on the CPU machine and carry gpu_bundle"; exit 1; }
  # Outside the source tree: libgtest-dev ships BUILD.bazel files that
  # `bazel test //...` would otherwise crawl.
  deps=${TMPDIR:-/tmp}/spat_gpu_deps
  if [[ ! -f $deps/.unpacked ]]; then
    mkdir -p "$deps"
    for d in "$debs"/*.deb; do dpkg -x "$d" "$deps" || { say "dpkg -x $d failed"; exit 1; }; done
    touch "$deps/.unpacked"
  fi
  prefix_path="$prefix_path;$deps/usr"
  export LD_LIBRARY_PATH="$deps/usr/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  export PATH="$deps/usr/bin:$PATH"
  protoc_flag=(-DProtobuf_PROTOC_EXECUTABLE="$deps/usr/bin/protoc")
  say "dependencies from $debs ($(ls "$debs"/*.deb | wc -l) .debs) in $deps"
else
  protoc_flag=()
fi
mnist=$bundle/mnist
[[ -f $mnist/train-images-idx3-ubyte.gz || -f $mnist/train-images-idx3-ubyte ]] ||
  mnist=${SPAT_DATA_DIR:-$HOME/.cache/spat}/mnist
say "device $device; LibTorch ${prefix_path:-from the system}${torch_build:+ ($torch_build)}; MNIST $mnist; budget ${budget_s} s"

# --- 1. build ---------------------------------------------------------------
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
targets=()
((skip_checks)) && targets=(--target train evaluate)
t=$(date +%s)
if cmake -S "$root" -B "$build_dir" "${generator[@]}" -DCMAKE_PREFIX_PATH="$prefix_path" \
     "${protoc_flag[@]}" >>"$log" 2>&1 &&
   cmake --build "$build_dir" -j "$jobs" "${targets[@]}" >>"$log" 2>&1; then
  cuda_on=$(grep -c "with CUDA: CUDA graphs" "$log" || true)
  nccl_on=$(grep -c "NCCL ON" "$log" || true)
  emit "{\"step\": \"build\", \"ok\": true, \"seconds\": $(($(date +%s) - t)), \"cuda_compiled\": $([[ $cuda_on -gt 0 ]] && echo true || echo false), \"nccl_compiled\": $([[ $nccl_on -gt 0 ]] && echo true || echo false)}"
else
  fail build
  tail -n 30 "$log" >&2
  exit 1
fi

if ((skip_checks)); then
  say "--skip_checks: no tests, no throughput"
else
# --- 2. tests ---------------------------------------------------------------
# The fast tests; on CUDA the cuda-labelled ones print their _CUDA cases.
t=$(date +%s)
ctest_log=$out/ctest.log
if ctest --test-dir "$build_dir" -LE slow -j "$jobs" --output-on-failure >"$ctest_log" 2>&1; then ok=true; else ok=false; status=1; fi
summary=$(grep -E "tests passed" "$ctest_log" | tail -n 1)
cat "$ctest_log" >>"$log"
cuda_out=$(cd "$root" && for b in device_test pgd_graphs_test trainer_test distributed_test; do
  TEST_TMPDIR=$build_dir "$build_dir/$b" --gtest_filter='*_CUDA' 2>&1; done)
echo "$cuda_out" >>"$log"
# Each case's own line ends with its time; gtest's summary repeats the names
# of skipped and failed cases without one.
cuda_cases=$(grep -cE '^\[       OK \] .*_CUDA \(' <<<"$cuda_out" || true)
cuda_failed=$(grep -cE '^\[  FAILED  \] .*_CUDA \(' <<<"$cuda_out" || true)
cuda_skipped=$(grep -cE '^\[  SKIPPED \] .*_CUDA \(' <<<"$cuda_out" || true)
if [[ $device == cuda ]] && ((cuda_failed > 0 || cuda_skipped > 0)); then ok=false; status=1; fi
emit "{\"step\": \"tests\", \"ok\": $ok, \"seconds\": $(($(date +%s) - t)), \"summary\": \"${summary}\", \"cuda_cases_passed\": $cuda_cases, \"cuda_cases_failed\": $cuda_failed, \"cuda_cases_skipped\": $cuda_skipped}"
[[ $ok == true ]] || say "tests failed: see $ctest_log"

# --- 3. throughput: ours vs eager PyTorch, alternated, best of 2 each -------
if ((quick)); then batch=16; iters=1; steps=2; else batch=128; iters=20; steps=10; fi
for model in small_cnn resnet18; do
  if ((quick)) && [[ $model == resnet18 && $device == cpu ]]; then continue; fi
  ours=0; eager=0
  for round in 1 2; do
    o=$("$build_dir/train_throughput" --device="$device" --model="$model" --method=spat \
          --batch_size="$batch" --num_steps="$steps" --iters="$iters" --threads="$threads" 2>>"$log" |
        grep -o '"img_per_s": *[0-9.]*' | grep -o '[0-9.]*$')
    if [[ -n $python ]]; then
      e=$("$python" tools/eager_reference.py --device "$device" --model "$model" --batch "$batch" \
            --steps "$steps" --iters "$iters" --threads "$threads" 2>>"$log" |
          grep -o '"img_per_s": *[0-9.]*' | grep -o '[0-9.]*$')
    else
      e=""
    fi
    [[ -n $o ]] && ours=$(awk -v a="$ours" -v b="$o" 'BEGIN { print (b > a ? b : a) }')
    [[ -n $e ]] && eager=$(awk -v a="$eager" -v b="$e" 'BEGIN { print (b > a ? b : a) }')
  done
  if [[ $ours == 0 ]]; then fail "throughput_$model"; continue; fi
  ratio=$(awk -v a="$ours" -v b="$eager" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "null" }')
  [[ $eager == 0 ]] && eager=null
  emit "{\"step\": \"throughput\", \"model\": \"$model\", \"method\": \"spat\", \"device\": \"$device\", \"batch_size\": $batch, \"num_steps\": $steps, \"ours_img_per_s\": $ours, \"eager_img_per_s\": $eager, \"ratio\": $ratio, \"torch\": \"$("${python:-false}" -c 'import torch; print(torch.__version__)' 2>/dev/null)\"}"
done
fi

# --- 4. the MNIST paper protocol, resumable, each finished model evaluated ---
# Run folders are the paper preset's Table 4-5 cells (DIR/cells/<method>, the
# run `train --config=spat/presets/mnist_paper.textproto --method=M` trains),
# so `table4_5_mnist --preset=paper --seeds=1 --out_dir=DIR` reuses them.
# They live in the build tree and come back as OUT/runs.tar.gz; the paper
# runs of earlier GPU calls travel in the checkout, results/mnist_paper/
# (tools/gpu_results.py puts them there), and are continued from there. Quick
# runs keep apart: --resume refuses a changed configuration.
runs=$build_dir/runs_${device}$( ((quick)) && echo _quick)
mkdir -p "$runs/cells"
saved=$root/results/mnist_paper/cells
if ((!quick)) && [[ -d $saved ]]; then
  for d in "$saved"/*/; do
    m=$(basename "$d")
    [[ -e $runs/cells/$m ]] && continue
    cp -r "$d" "$runs/cells/$m" && say "continuing $m from results/mnist_paper/cells/$m"
  done
fi
extra=()
eval_flags=(--n=10000)
if ((quick)); then
  # Two epochs of 2,000 images at eps 0.3 may not leave chance: a check of
  # the code path, not of a collapse (the full protocol keeps the trainer's
  # collapse check).
  extra=(--epochs=2 --train_subset=2000 --test_subset=200 --num_steps=5 --step_size=0.06
    --stop_at_chance=false)
  eval_flags=(--n=100 --apgd_iters=3 --fab_iters=3 --square_queries=10)
fi
# Reads run folders and the paper's Table 4 (standard library only).
results_py=("${python:-python3}" "$root/tools/gpu_results.py")
# Whether run folder $1 holds every epoch it planned.
finished() {
  local done_ planned
  read -r done_ planned <<<"$("${results_py[@]}" progress "$1" 2>>"$log" || true)"
  [[ -n ${done_:-} && $done_ == "$planned" ]]
}
reached=""
for method in spat trades madry mart alp; do
  dir=$runs/cells/$method
  if finished "$dir"; then
    say "$method: finished earlier"
  else
    remaining=$(($(left) - 15))  # keep time to pack the runs
    if ((remaining < 20)); then say "budget spent before training $method"; break; fi
    resume=()
    [[ -f $dir/train_state.pt ]] && resume=(--resume)
    say "training $method for at most ${remaining} s${resume:+ (resuming)}"
    timeout --signal=TERM "$remaining" "$build_dir/train" --config="$root/spat/presets/mnist_paper.textproto" \
      --method="$method" --data_dir="$mnist" --device="$device" \
      --out_dir="$dir" --threads="$threads" "${resume[@]}" "${extra[@]}" >>"$log" 2>&1
    rc=$?
    if [[ -f $dir/metrics.json ]]; then
      epochs=$("${results_py[@]}" curve "$dir" 2>>"$log" || true)
      [[ -n $epochs ]] && emit "$epochs"
    fi
    if ((rc == 124)); then reached="$method (stopped by the budget; --resume continues it)"; break; fi
    if ((rc != 0)); then fail "paper_protocol_$method"; break; fi
  fi
  reached="$method (finished)"
  # Table 4's attacks (and AutoAttack) on the finished model, once.
  [[ -f $dir/table4_eval.json ]] && continue
  remaining=$(($(left) - 15))
  if ((remaining < 20)); then say "budget spent before evaluating $method"; break; fi
  say "evaluating $method (FGSM, PGD-20, C&W, AutoAttack at eps 0.3) for at most ${remaining} s"
  timeout --signal=TERM "$remaining" "$build_dir/evaluate" --checkpoint="$dir/checkpoint.pt" \
    --model=small_cnn --dataset=mnist --data_dir="$mnist" --epsilon=0.3 \
    --attacks=clean,fgsm,pgd20,cw,aa "${eval_flags[@]}" --device="$device" --threads="$threads" \
    --out="$dir/table4_eval.json" >>"$log" 2>&1
  rc=$?
  if ((rc == 124)); then say "evaluation of $method stopped by the budget; it runs again next time"; break; fi
  if ((rc != 0)); then fail "evaluate_$method"; break; fi
  row=$("${results_py[@]}" table4_row "$dir" "$method" 2>>"$log" || true)
  [[ -n $row ]] && emit "$row"
done
# What comes back: every run folder, without what a finished run no longer
# needs (its train_state.pt: the checkpoint and metrics make it a table cell).
packlist=$(mktemp)
for dir in "$runs"/cells/*/; do
  [[ -d $dir ]] || continue
  m=$(basename "$dir")
  keep_state=1
  finished "$dir" && keep_state=0
  for f in "$dir"*; do
    f=$(basename "$f")
    [[ $f == train_state.pt ]] && ((!keep_state)) && continue
    echo "cells/$m/$f"
  done
done >"$packlist"
tar -czf "$out/runs.tar.gz" -C "$runs" -T "$packlist" 2>>"$log"
rm -f "$packlist"
say "paper protocol reached: ${reached:-nothing}; the run folders are in $out/runs.tar.gz (here: tools/gpu_results.py import FILE puts them in results/mnist_paper/ for the next call)"
emit "{\"step\": \"done\", \"ok\": $([[ $status == 0 ]] && echo true || echo false), \"seconds\": $(elapsed), \"paper_protocol_reached\": \"${reached}\"}"
exit "$status"
