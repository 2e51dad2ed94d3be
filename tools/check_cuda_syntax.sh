#!/usr/bin/env bash
# Compile-checks the CUDA-only code (what SPAT_WITH_CUDA turns on: CUDA graphs
# of PGD, NCCL) on a machine without a GPU: g++ -fsyntax-only against
# Debian's LibTorch headers, which include the CUDA ones, and the CUDA
# toolkit's headers. Nothing is linked or run. Exit 0 when every file parses;
# exit 0 with a note when no CUDA toolkit is installed (nothing to check
# against); 1 on the first error.
#   tools/check_cuda_syntax.sh [CUDA_HOME]   (default /usr/local/cuda)
set -euo pipefail
cd "$(dirname "$0")/.."
cuda=${1:-${CUDA_HOME:-/usr/local/cuda}}
if [[ ! -f $cuda/include/cuda_runtime_api.h ]]; then
  echo "check_cuda_syntax: no CUDA toolkit at $cuda; skipped"
  exit 0
fi
files=(attacks/pgd_graphs.cc attacks/pgd_graphs_test.cc spat/distributed.cc)
# What the builds add: spat/BUILD and CMakeLists.txt define SPAT_WITH_GLOO
# and USE_C10D_GLOO for distributed.cc (CMake: where Gloo's headers are), and
# USE_C10D_NCCL where CUDA is on.
defines=(-DSPAT_WITH_CUDA=1 -DSPAT_WITH_NCCL=1 -DSPAT_WITH_GLOO=1 -DUSE_C10D_GLOO -DUSE_C10D_NCCL)
# Debian's LibTorch omits the header CMake generates for a CUDA build.
shim=$(mktemp -d)
trap 'rm -rf "$shim"' EXIT
mkdir -p "$shim/c10/cuda/impl"
: >"$shim/c10/cuda/impl/cuda_cmake_macros.h"
check() {  # check FILE DEFINES...
  local f=$1
  shift
  g++ -std=c++17 -fsyntax-only -Wall -Wextra "$@" -I. -I"$shim" \
    -isystem /usr/include/torch/csrc/api/include -isystem "$cuda/include" "$f"
}
for f in "${files[@]}"; do
  check "$f" "${defines[@]}"
  echo "check_cuda_syntax: $f ok"
done
# The CMake build against the torch Python package, which ships no Gloo
# headers: NCCL without Gloo (torch's target still defines USE_C10D_GLOO).
check spat/distributed.cc -DSPAT_WITH_CUDA=1 -DSPAT_WITH_NCCL=1 -DUSE_C10D_GLOO -DUSE_C10D_NCCL
echo "check_cuda_syntax: spat/distributed.cc without Gloo ok"
# ... and a CPU-only one (no NCCL either).
check spat/distributed.cc -DUSE_C10D_GLOO
echo "check_cuda_syntax: spat/distributed.cc without Gloo or NCCL ok"
