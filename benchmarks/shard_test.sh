#!/usr/bin/env bash
# A sweep split over 2 shards (as on 2 machines: separate out_dirs, then the
# cells gathered into one) and merged equals the unsharded run:
#   shard_test.sh BINARY TABLE_ID...
set -uo pipefail
bin=$1
shift
tmp="${TEST_TMPDIR:-$(mktemp -d)}/shard"
rm -rf "$tmp"; mkdir -p "$tmp"
fail() { echo "FAIL: $*"; exit 1; }
run() { "$bin" --preset=smoke --threads=1 "$@"; }

run --out_dir="$tmp/whole" > /dev/null 2> "$tmp/whole.err" || fail "unsharded run: $(tail -3 "$tmp/whole.err")"
for i in 0 1; do
  run --shard=$i/2 --out_dir="$tmp/shard$i" > /dev/null 2> "$tmp/shard$i.err" ||
    fail "shard $i/2: $(tail -3 "$tmp/shard$i.err")"
  for id in "$@"; do
    [ -e "$tmp/shard$i/$id.json" ] && fail "shard $i wrote $id.json; only --merge assembles tables"
  done
  grep "cells are done" "$tmp/shard$i.err"
done
n0=$(ls "$tmp/shard0/cells" | wc -l); n1=$(ls "$tmp/shard1/cells" | wc -l)
[ "$n0" -ge 1 ] && [ "$n1" -ge 1 ] || fail "a shard trained nothing ($n0, $n1 cells)"
overlap=$(comm -12 <(ls "$tmp/shard0/cells") <(ls "$tmp/shard1/cells"))
[ -z "$overlap" ] || fail "both shards trained: $overlap"

# Merging before every shard is in is refused, naming the missing cell.
mkdir -p "$tmp/merged/cells"
cp -r "$tmp/shard0/cells/." "$tmp/merged/cells/"
run --merge --out_dir="$tmp/merged" > /dev/null 2> "$tmp/early.err"; rc=$?
[ "$rc" = 1 ] || fail "--merge with a shard missing exited $rc, expected 1"
grep -q "is not finished" "$tmp/early.err" || fail "unclear message: $(tail -2 "$tmp/early.err")"
echo "ok: early merge refused: $(grep error: "$tmp/early.err")"
# --status says how far the cells are, trains and writes nothing.
before=$(find "$tmp/merged" | sort)
run --status --out_dir="$tmp/merged" > "$tmp/status.out" 2> "$tmp/status.err" ||
  fail "--status: $(tail -3 "$tmp/status.err")"
grep -Eq "^.*: $n0 of [0-9]+ cells finished \(0 running now\)" "$tmp/status.out" ||
  fail "--status summary: $(cat "$tmp/status.out")"
grep -q "^\[.*\] training" "$tmp/status.err" && fail "--status trained a cell"
[ "$(find "$tmp/merged" | sort)" = "$before" ] || fail "--status wrote into the out_dir"
run --status --merge --out_dir="$tmp/merged" > /dev/null 2>&1; rc=$?
[ "$rc" = 2 ] || fail "--status with --merge exited $rc, expected 2"
echo "ok: --status: $(cat "$tmp/status.out")"
run --shard=0/2 --merge --out_dir="$tmp/merged" > /dev/null 2> "$tmp/both.err"; rc=$?
[ "$rc" = 2 ] || fail "--shard with --merge exited $rc, expected 2"
run --shard=2/2 --out_dir="$tmp/bad" > /dev/null 2> "$tmp/bad.err"; rc=$?
[ "$rc" = 2 ] && grep -q -- "--shard='2/2'" "$tmp/bad.err" || fail "--shard=2/2: exit $rc: $(cat "$tmp/bad.err")"

cp -r "$tmp/shard1/cells/." "$tmp/merged/cells/"
run --merge --out_dir="$tmp/merged" > /dev/null 2> "$tmp/merged.err" || fail "merge: $(tail -3 "$tmp/merged.err")"
grep -q "^\[.*\] training" "$tmp/merged.err" && fail "--merge trained a cell"
for id in "$@"; do
  # Timings differ between runs; every number and note must not.
  diff <(grep -v '"seconds"' "$tmp/whole/$id.json") <(grep -v '"seconds"' "$tmp/merged/$id.json") ||
    fail "$id.json: merged shards differ from the unsharded run"
  echo "ok: $id.json of 2 merged shards equals the unsharded run's"
done
echo PASS
