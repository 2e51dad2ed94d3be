#!/usr/bin/env bash
# Runs the test suite as other x86-64 CPUs would: LibTorch's ATen kernels,
# oneDNN and OpenBLAS each pick their code path from the CPU, so a test that
# passes here can fail on another processor (float rounding moves with the
# instruction set). Each setting caps what they may use:
#
#   native   what this CPU offers
#   avx2     ATEN_CPU_CAPABILITY=avx2 DNNL_MAX_CPU_ISA=AVX2 OPENBLAS_CORETYPE=Haswell
#   sse41    ATEN_CPU_CAPABILITY=default DNNL_MAX_CPU_ISA=SSE41
#
#   tools/test_kernel_settings.sh [native|avx2|sse41 ...] [-- BAZEL TARGETS]
#   tools/test_kernel_settings.sh avx2 sse41 -- //spat:parity_test
#
# Prints one line per setting ("avx2: 50 tests, 0 failed") and exits 1 if any
# failed. Bazel caches results per setting (they are test_env values).
set -uo pipefail
cd "$(dirname "$0")/.."
settings=()
while (($#)) && [[ $1 != -- ]]; do settings+=("$1"); shift; done
[[ ${1:-} == -- ]] && shift
targets=("$@")
((${#targets[@]})) || targets=(//...)
((${#settings[@]})) || settings=(native avx2 sse41)

env_of() {
  case "$1" in
    native) echo "" ;;
    avx2) echo "ATEN_CPU_CAPABILITY=avx2 DNNL_MAX_CPU_ISA=AVX2 OPENBLAS_CORETYPE=Haswell" ;;
    sse41) echo "ATEN_CPU_CAPABILITY=default DNNL_MAX_CPU_ISA=SSE41" ;;
    *) echo "unknown setting '$1' (native, avx2, sse41)" >&2; return 2 ;;
  esac
}

status=0
summary=()
for s in "${settings[@]}"; do
  vars=$(env_of "$s") || exit 2
  flags=()
  for v in $vars; do flags+=("--test_env=$v"); done
  log=$(mktemp)
  bazel test "${flags[@]}" "${targets[@]}" 2>&1 | tee "$log" | grep -E 'FAILED|TIMEOUT|NO STATUS' || true
  line=$(grep -E '^Executed [0-9]+ out of [0-9]+ tests?:' "$log" | tail -n 1)
  grep -qE 'fails? locally|FAILED|TIMEOUT' "$log" && status=1
  grep -q '^Executed' "$log" || status=1
  summary+=("$s: ${line:-no test summary (build failed?)}")
  rm -f "$log"
done
printf '%s\n' "${summary[@]}"
exit $status
