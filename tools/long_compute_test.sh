#!/bin/bash
# tools/long_compute.py on made-up stored results: compute per table from the
# cells' epoch and attack seconds, wall time from runs.log, clear errors.
set -u
script=$(dirname "$0")/long_compute.py
[[ -f $script ]] || script=$TEST_SRCDIR/spat/tools/long_compute.py
tmp=${TEST_TMPDIR:-$(mktemp -d)}/long_compute
rm -rf "$tmp"
fail() { echo "FAIL: $*"; exit 1; }
cell() {  # cell NAME EPOCH_SECONDS... -- ATTACK:SECONDS...
  local d=$tmp/cells/$1 e=() a=()
  shift
  while (($#)) && [[ $1 != -- ]]; do e+=("{\"epoch\": ${#e[@]}, \"seconds\": $1}"); shift; done
  shift
  for x in "$@"; do a+=("{\"attack\": \"${x%%:*}\", \"seconds\": ${x#*:}}"); done
  mkdir -p "$d"
  (IFS=,; echo "{\"epochs\": [${e[*]}]}" >"$d/metrics.json")
  ((${#a[@]})) && (IFS=,; echo "{\"evals\": [${a[*]}]}" >"$d/evals.json")
  return 0
}
cell spat_s5_a0.2_b0.2 1800 1800 -- clean:3600 pgd20:3600 aa:7200
cell spat_s5_a0.2_b0.2_half 1800 --
cell trades_seed2 3600 3600 3600 -- cw:1800
cell spat_seed2 1800 --  # a Tables 4-5 cell, though its name starts with spat_
cell source_lenet5 360 --
cat >"$tmp/runs.log" <<'LOG'
2026-01-01T00:00:00Z start: 2 lane(s), 2 core(s), CPU A
2026-01-01T01:00:00Z stopped: 3600 s wall
2026-01-01T02:00:00Z start: 2 lane(s), 2 core(s), CPU B
2026-01-01T04:00:00Z killed: wall time unknown (no heartbeat of that run here)
2026-01-01T04:00:00Z start: 2 lane(s), 2 core(s), CPU B
2026-01-01T05:00:00Z killed: 3600 s wall (to its last heartbeat)
2026-01-01T06:00:00Z start: 2 lane(s), 2 core(s), CPU B
2026-01-01T07:30:00Z end (exit 0): 5400 s wall
LOG
out=$(python3 "$script" "$tmp") || fail "exit $?: $out"
grep -qE '^Table 1 +2 +1 +3 +1\.50 +2\.00 +2\.00 +5\.50$' <<<"$out" || fail "Table 1 row: $out"
grep -qE '^Tables 4-5 +2 +0 +4 +3\.50 +0\.50 +0\.00 +4\.00$' <<<"$out" || fail "Tables 4-5 row: $out"
grep -qE '^all +5 +1 +8 +5\.10 +2\.50 +2\.00 +9\.60$' <<<"$out" || fail "all row: $out"
grep -q "wall clock (runs.log): 3.50 h over 4 ended start(s) of 4, on CPU A; CPU B" <<<"$out" || fail "wall: $out"
grep -q "1 killed start(s) with no record" <<<"$out" || fail "unknown wall not said: $out"
grep -q "has not ended" <<<"$out" && fail "ended run said open: $out"
echo "2026-01-02T00:00:00Z start: 2 lane(s), 2 core(s), CPU B" >>"$tmp/runs.log"
python3 "$script" "$tmp" | grep -q "has not ended" || fail "open run not said"

echo '{"epochs": [' >"$tmp/cells/trades_seed2/metrics.json"
err=$(python3 "$script" "$tmp" 2>&1); rc=$?
[[ $rc == 1 && $err == *trades_seed2/metrics.json* ]] || fail "bad metrics.json: rc $rc: $err"
python3 "$script" "$tmp/nope" 2>/dev/null; [[ $? == 2 ]] || fail "missing folder"
python3 "$script" --frob 2>/dev/null; [[ $? == 2 ]] || fail "unknown flag"
echo PASS
