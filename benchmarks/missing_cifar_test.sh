#!/usr/bin/env bash
# table6_7_cifar --preset=cpu with no CIFAR-10: a clear message and exit 2.
set -uo pipefail
export SPAT_DATA_DIR="${TEST_TMPDIR:-/tmp}/no-data-here"
out=$("$1" --preset=cpu --out_dir="${TEST_TMPDIR:-/tmp}/o" 2>&1)
rc=$?
[[ $rc -eq 2 ]] || { echo "FAILED: exit $rc, want 2"; echo "$out"; exit 1; }
grep -q "cifar-10-batches-bin" <<<"$out" || { echo "FAILED: message does not say where: $out"; exit 1; }
echo "PASSED: $out"
