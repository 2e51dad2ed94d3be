#!/usr/bin/env bash
# Keeps the layering base <- data <- models <- attacks <- spat <- benchmarks:
# nothing reaches up. Two checks, both run by .ci/run:
#  1. includes: no file of a package includes a header of a package above it
#     (fuzz/ may use data/ and models/; tools/ nothing of ours);
#  2. the build graph (bazel query): no target of a package depends on a
#     target of a package above it. Skipped with --includes-only.
# Exit 1 with every back-edge listed, 0 when there is none.
set -euo pipefail
cd "$(dirname "$0")/.."
order=(base data models attacks spat benchmarks)
declare -A rank=([base]=0 [data]=1 [models]=2 [attacks]=3 [spat]=4 [benchmarks]=5 [fuzz]=3 [tools]=0)
status=0

# 1. #include "pkg/..." in every C++ file of ours.
for pkg in "${!rank[@]}"; do
  [[ -d $pkg ]] || continue
  while IFS= read -r hit; do
    file=${hit%%:*}
    inc=$(sed -E 's/.*#include "([^/"]+)\/.*/\1/' <<<"$hit")
    [[ -n ${rank[$inc]+x} ]] || continue  # not one of ours (absl, gtest, ...)
    if ((rank[$inc] > rank[$pkg])) || { [[ $inc == fuzz || $inc == tools ]] && [[ $inc != "$pkg" ]]; }; then
      echo "layering: $file includes $inc/ (${inc} is above ${pkg})"
      status=1
    fi
  done < <(grep -rnE '^#include "[^"]+/' "$pkg" --include='*.h' --include='*.cc' || true)
done

# 2. The dependency graph.
if [[ ${1:-} != --includes-only ]]; then
  for ((i = 0; i < ${#order[@]} - 1; i++)); do
    pkg=${order[i]}
    above=$(printf ' + //%s/...' "${order[@]:i+1}")
    above=${above# + }
    edges=$(bazel query --noshow_progress --output=label \
      "kind(rule, deps(//$pkg/...) intersect ($above))" 2>/dev/null) || {
      echo "layering: bazel query failed for //$pkg/..."; status=1; continue; }
    if [[ -n $edges ]]; then
      while IFS= read -r t; do
        path=$(bazel query --noshow_progress "somepath(//$pkg/..., $t)" 2>/dev/null | tr '\n' ' ')
        echo "layering: //$pkg/... depends on $t (above $pkg): $path"
      done <<<"$edges"
      status=1
    fi
  done
fi
[[ $status == 0 ]] && echo "layering: ok (${order[*]})"
exit $status
