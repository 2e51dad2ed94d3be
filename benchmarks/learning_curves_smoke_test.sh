#!/bin/bash
# //benchmarks:learning_curves on the smoke preset: madry at 1 and 2 epochs
# with the one-cycle schedule and PyTorch's default init, then again (every
# cell reused); --eval_every; --jobs; bad flags exit 2.
set -uo pipefail
bin="${TEST_SRCDIR}/${TEST_WORKSPACE}/benchmarks/learning_curves"
out="${TEST_TMPDIR}/curves"
fail() { echo "FAIL: $*"; exit 1; }
args=(--preset=smoke --methods=madry --budgets=1,2 --lr_schedule=one_cycle --init=torch_default
      --lr=0.05 --threads=1 --out_dir="$out")
"$bin" "${args[@]}" > "$TEST_TMPDIR/out1" 2> "$TEST_TMPDIR/err1" || { tail "$TEST_TMPDIR/err1"; fail "first run"; }
grep -q '| madry | 2 |' "$out/curves.md" || fail "no 2-epoch row"; 
grep -Eq 'plateau|still moving' "$out/curves.md" || fail "no doubling verdict"
grep -q 'one-cycle schedule' "$out/curves.md" || fail "protocol lacks the schedule"
grep -q 'PyTorch default init' "$out/curves.md" || fail "protocol lacks the init"
grep -q 'decays within the run.*does not show convergence' "$out/curves.md" || fail "protocol does not say one-cycle flattens the last epochs"
grep -q '"epochs_2"' "$out/curves.json" || fail "no curves in the JSON"
grep -q 'lr_schedule: ONE_CYCLE' "$out"/cells/curve_madry_e2_*/config.textproto || fail "config lacks the schedule"
grep -q 'init: TORCH_DEFAULT' "$out"/cells/curve_madry_e2_*/config.textproto || fail "config lacks the init"
"$bin" "${args[@]}" > /dev/null 2> "$TEST_TMPDIR/err2" || fail "second run"
[ "$(grep -c 'finished earlier' "$TEST_TMPDIR/err2")" = 2 ] || { cat "$TEST_TMPDIR/err2"; fail "cells not reused"; }
# --eval_every=3: a 4-epoch run is evaluated after epochs 3 and 4 only, and
# says so; the same flag on the first run's cells reuses them (it changes what
# is measured, not what is trained).
"$bin" "${args[@]}" --eval_every=3 > /dev/null 2> "$TEST_TMPDIR/err4" || fail "--eval_every on finished cells"
[ "$(grep -c 'finished earlier' "$TEST_TMPDIR/err4")" = 2 ] || { cat "$TEST_TMPDIR/err4"; fail "--eval_every changed the cells' identity"; }
"$bin" --preset=smoke --methods=madry --budgets=4 --eval_every=3 --threads=1 \
  --out_dir="$TEST_TMPDIR/sparse" > /dev/null 2> "$TEST_TMPDIR/err5" || { tail "$TEST_TMPDIR/err5"; fail "--eval_every=3"; }
tr -d ' \n' < "$TEST_TMPDIR/sparse/curves.json" | grep -q '"epoch":\[3,4\]' || fail "curves.json: not epochs 3 and 4"
grep -q 'check PGD-5 (CE, random start)' "$TEST_TMPDIR/sparse/curves.md" &&
  grep -q 'every 3 epochs and the last two' "$TEST_TMPDIR/sparse/curves.md" || fail "protocol lacks --eval_every"
[ "$(grep -c 'not evaluated (eval_every 3)' "$TEST_TMPDIR/err5")" = 2 ] || fail "epochs 1 and 2 not reported as skipped"
# --jobs=2: two processes train a shard of the cells each, then the parent
# assembles the output from their cells.
# spat:s=10 is SPAT with the scale s = 10 (Table 1's rows).
"$bin" --preset=smoke --methods=madry,spat:s=10 --budgets=1 --jobs=2 --threads=2 \
  --out_dir="$TEST_TMPDIR/jobs" > /dev/null 2> "$TEST_TMPDIR/err3" || { tail "$TEST_TMPDIR/err3"; fail "--jobs=2"; }
grep -q 'in 2 processes of 1 thread' "$TEST_TMPDIR/err3" || fail "--jobs did not start 2 processes"
[ "$(grep -c 'shard [01]/2: training only' "$TEST_TMPDIR/err3")" = 2 ] || fail "not 2 shards"
grep -q '| spat:s=10 | 1 |' "$TEST_TMPDIR/jobs/curves.md" && grep -q '| madry | 1 |' "$TEST_TMPDIR/jobs/curves.md" ||
  fail "the merged output lacks a method"
grep -q '^  s: 10$' "$TEST_TMPDIR"/jobs/cells/curve_spat_s10_e1_*/config.textproto || fail "spat:s=10 did not train with s = 10"
"$bin" --preset=smoke --methods=madry:s=2 --out_dir="$out" > /dev/null 2>&1; rc=$?
[ "$rc" = 2 ] || fail "madry:s=2 exited $rc, want 2"
"$bin" --preset=smoke --jobs=2 --merge --out_dir="$out" > /dev/null 2>&1; rc=$?
[ "$rc" = 2 ] || fail "--jobs with --merge exited $rc, want 2"
"$bin" --preset=smoke --budgets=2,1 --out_dir="$out" > /dev/null 2>&1; rc=$?
[ "$rc" = 2 ] || fail "decreasing --budgets exited $rc, want 2"
"$bin" --preset=smoke --eval_every=-1 --out_dir="$out" > /dev/null 2>&1; rc=$?
[ "$rc" = 2 ] || fail "--eval_every=-1 exited $rc, want 2"
"$bin" --preset=smoke --lr_schedule=linear --out_dir="$out" > /dev/null 2>&1; rc=$?
[ "$rc" = 2 ] || fail "unknown --lr_schedule exited $rc, want 2"
echo PASS
