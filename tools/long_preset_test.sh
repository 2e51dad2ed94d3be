#!/bin/bash
# tools/long_preset.sh with stand-ins for the table binaries: each lane runs
# Table 1's shard, then Tables 4-5's; both merge at the end; runs.log records
# start and end; a stop ends the lanes and is logged; bad usage exits 2.
set -u
script=$(dirname "$0")/long_preset.sh
[[ -f $script ]] || script=$TEST_SRCDIR/spat/tools/long_preset.sh
tmp=${TEST_TMPDIR:-$(mktemp -d)}/long_preset
rm -rf "$tmp"
mkdir -p "$tmp/bin" "$tmp/slow"
export TMPDIR=$tmp
fail() { echo "FAIL: $*"; exit 1; }
for b in table1_sweep table4_5_mnist; do
  printf '#!/bin/bash\necho "%s $*" >>"%s/calls"\n' "$b" "$tmp" >"$tmp/bin/$b"
  printf '#!/bin/bash\n[[ $* == *--status* ]] && exit 0\nwhile :; do sleep 0.2; done\n' >"$tmp/slow/$b"
done
chmod +x "$tmp"/bin/* "$tmp"/slow/*

bash "$script" --lanes=2 --bin="$tmp/bin" --out_dir="$tmp/out" >"$tmp/stdout" 2>&1 || fail "exit $?: $(cat "$tmp/stdout")"
for i in 0 1; do
  grep -qx "table1_sweep --preset=long --out_dir=$tmp/out --shard=$i/2 --threads=1" "$tmp/calls" || fail "table1 shard $i"
  grep -qx "table4_5_mnist --preset=long --out_dir=$tmp/out --shard=$i/2 --threads=1" "$tmp/calls" || fail "tables 4-5 shard $i"
done
# First what is done already, then the lanes; the merges come last, once
# every lane is done.
head -2 "$tmp/calls" | grep -c -- "--status$" | grep -qx 2 || fail "no --status first: $(cat "$tmp/calls")"
tail -2 "$tmp/calls" | grep -c -- "--merge" | grep -qx 2 || fail "merges not last: $(cat "$tmp/calls")"
grep -q " start: 2 lane(s)" "$tmp/out/runs.log" || fail "no start in runs.log"
grep -q " end (exit 0): " "$tmp/out/runs.log" || fail "no end in runs.log"

# --preset=eps03: Tables 4-5 alone, at that preset.
: >"$tmp/calls"
bash "$script" --preset=eps03 --lanes=2 --bin="$tmp/bin" --out_dir="$tmp/out3" >"$tmp/stdout" 2>&1 ||
  fail "eps03: exit $?: $(cat "$tmp/stdout")"
grep -qx "table4_5_mnist --preset=eps03 --out_dir=$tmp/out3 --shard=1/2 --threads=1" "$tmp/calls" ||
  fail "eps03 shard 1: $(cat "$tmp/calls")"
grep -q "table1_sweep" "$tmp/calls" && fail "eps03 ran Table 1: $(cat "$tmp/calls")"
bash "$script" --preset=cifar --bin="$tmp/bin" >/dev/null 2>&1; [[ $? == 2 ]] || fail "unknown preset"

# A lane that fails: exit 1, no merge.
printf '#!/bin/bash\nexit 3\n' >"$tmp/bin/table4_5_mnist"
: >"$tmp/calls"
bash "$script" --lanes=1 --bin="$tmp/bin" --out_dir="$tmp/out" >/dev/null 2>&1 && fail "a failed lane exited 0"
grep -q -- "--merge" "$tmp/calls" && fail "merged after a failed lane"

# Stopped: the lanes' processes end, runs.log says so.
bash "$script" --lanes=2 --bin="$tmp/slow" --out_dir="$tmp/out2" >/dev/null 2>&1 &
pid=$!
for _ in $(seq 50); do [[ $(pgrep -fc "$tmp/slow/table1_sweep") == 2 ]] && break; sleep 0.1; done
[[ $(pgrep -fc "$tmp/slow/table1_sweep") == 2 ]] || fail "the two lanes did not start"
kill -TERM "$pid"
wait "$pid" && fail "a stopped run exited 0"
sleep 0.5
[[ $(pgrep -fc "$tmp/slow/table1_sweep") == 0 ]] || fail "lanes still running after a stop"
grep -q " stopped: " "$tmp/out2/runs.log" || fail "no stop in runs.log"

# A run killed without logging its end: the next start logs it, to its last
# heartbeat when that is the same run's, else as unknown.
mkdir -p "$tmp/out3"
printf '#!/bin/bash\nexit 0\n' >"$tmp/bin/table4_5_mnist"
echo "2026-01-01T00:00:00Z start: 2 lane(s), 2 core(s), X" >"$tmp/out3/runs.log"
echo "2026-01-01T00:00:00Z 1767225600 1767229200" >"$tmp/out3/.alive"
bash "$script" --lanes=1 --bin="$tmp/bin" --out_dir="$tmp/out3" >/dev/null 2>&1 || fail "exit $? after a killed run"
grep -qx "2026-01-01T01:00:00Z killed: 3600 s wall (to its last heartbeat)" "$tmp/out3/runs.log" ||
  fail "killed run not logged: $(cat "$tmp/out3/runs.log")"
[[ $(grep -c " start: " "$tmp/out3/runs.log") == 2 && $(tail -n 1 "$tmp/out3/runs.log") == *" end (exit 0): "* ]] ||
  fail "runs.log after a killed run: $(cat "$tmp/out3/runs.log")"
echo "2026-01-02T00:00:00Z start: 2 lane(s), 2 core(s), X" >>"$tmp/out3/runs.log"
bash "$script" --lanes=1 --bin="$tmp/bin" --out_dir="$tmp/out3" >/dev/null 2>&1 || fail "exit $?"
grep -q " killed: wall time unknown" "$tmp/out3/runs.log" || fail "stale heartbeat used: $(cat "$tmp/out3/runs.log")"

# Killed outright (SIGKILL): the heartbeat stops with the script, so that the
# next start logs this run's time, not a ghost's.
LONG_PRESET_HEARTBEAT_S=0.2 bash "$script" --lanes=1 --bin="$tmp/slow" --out_dir="$tmp/out4" >/dev/null 2>&1 &
pid=$!
for _ in $(seq 50); do [[ -f $tmp/out4/.alive ]] && break; sleep 0.1; done
[[ -f $tmp/out4/.alive ]] || fail "no heartbeat"
kill -KILL "$pid"
wait "$pid" 2>/dev/null
pkill -f "$tmp/slow/table1_sweep"
sleep 1
beat=$(cat "$tmp/out4/.alive")
sleep 1
[[ $(cat "$tmp/out4/.alive") == "$beat" ]] || fail "the heartbeat outlived its script"

bash "$script" --lanes=0 2>/dev/null; [[ $? == 2 ]] || fail "--lanes=0"
bash "$script" --frob 2>/dev/null; [[ $? == 2 ]] || fail "unknown flag"
bash "$script" --bin="$tmp/nope" 2>/dev/null; [[ $? == 2 ]] || fail "missing binaries"
echo PASS
