#!/usr/bin/env bash
# Regenerates benchmarks/goldens/<table>_smoke.json from the smoke preset
# (1 thread, fixed seed), after an intended change of results. Review the
# diff before committing it.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d)
for bin in table1_sweep:table1 table2_sp_ablation:table2 table3_nce_vs_ce:table3; do
  target=${bin%%:*}
  id=${bin##*:}
  bazel run //benchmarks:"$target" -- --preset=smoke --threads=1 --out_dir="$out" >/dev/null
  cp "$out/$id.json" "benchmarks/goldens/${id}_smoke.json"
  echo "updated benchmarks/goldens/${id}_smoke.json"
done
rm -rf "$out"
