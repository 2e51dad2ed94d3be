#!/bin/bash
# A stored preset on one machine, in N lanes (one single-threaded process
# each), then its tables: the long preset (Table 1, then Tables 4-5, MNIST at
# eps 0.1) or, with --preset=eps03, Tables 4-5 at the paper's eps 0.3.
#
#   tools/long_preset.sh [--preset=long|eps03] [--lanes=N] [--bin=DIR] [--out_dir=DIR]
#
# Lane i trains Table 1's cells of shard i/N, then Tables 4-5's of shard i/N,
# so a lane that finishes Table 1 early goes on with Tables 4-5 instead of
# waiting (a cell two lanes need, such as SPAT's defaults that both tables
# share, is locked by the first and reused by the second). When every lane is
# done, both binaries run with --merge and write the tables into the results
# folder (and, for results/long and results/eps03, into README.md:
# tools/long_readme.py).
# Finished cells are reused and an interrupted one resumes, so the script can
# be stopped and started again at any time; each start first says how far the
# cells are (the binaries' --status).
#
# Each start and end is appended to DIR/runs.log (date, CPU, lanes, wall
# seconds): the wall-clock record of what the stored results took. A run killed
# without a chance to log its end (SIGKILL, power off) is logged by the next
# start, up to its last sign of life (DIR/.alive, rewritten every minute).
# Lane logs go to ${TMPDIR:-/tmp}/long_preset/.
#
# --bin: where table1_sweep and table4_5_mnist are (default: build them with
# Bazel and use bazel-bin/benchmarks). Exit codes: 0 done, 1 a lane or a merge
# failed (its log says why), 2 bad usage.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
lanes=2
bin=""
preset=long
out=""
for a in "$@"; do
  case $a in
    --preset=*) preset=${a#--preset=} ;;
    --lanes=*) lanes=${a#--lanes=} ;;
    --bin=*) bin=${a#--bin=} ;;
    --out_dir=*) out=${a#--out_dir=} ;;
    -h | --help) sed -n '2,27p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "error: unknown argument '$a' (see --help)" >&2; exit 2 ;;
  esac
done
case $preset in
  long) binaries=(table1_sweep table4_5_mnist) ;;
  eps03) binaries=(table4_5_mnist) ;;
  *) echo "error: --preset=$preset: expected long or eps03" >&2; exit 2 ;;
esac
[[ -n $out ]] || out=results/$preset
if ! [[ $lanes =~ ^[1-9][0-9]*$ ]]; then
  echo "error: --lanes=$lanes: expected a positive number of processes" >&2
  exit 2
fi
if [[ -z $bin ]]; then
  bazel build "${binaries[@]/#/\/\/benchmarks:}" || exit 1
  bin=$root/bazel-bin/benchmarks
fi
for b in "${binaries[@]}"; do
  if [[ ! -x $bin/$b ]]; then
    echo "error: --bin=$bin has no $b" >&2
    exit 2
  fi
done
mkdir -p "$out" || exit 1
# How far the cells are (finished ones are reused, an interrupted one resumes).
for b in "${binaries[@]}"; do
  "$bin/$b" --preset="$preset" --out_dir="$out" --status 2>/dev/null
done
logs=${TMPDIR:-/tmp}/long_preset/$preset
mkdir -p "$logs" || exit 1
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
alive=$out/.alive
# The previous run ended without logging it: its wall time to its last
# heartbeat, when the heartbeat is that run's.
last=$(tail -n 1 "$out/runs.log" 2>/dev/null)
if [[ $last == *" start: "* ]]; then
  read -r hb_stamp hb_start hb_last 2>/dev/null <"$alive"
  if [[ ${hb_stamp:-} == "${last%% *}" && ${hb_last:-} =~ ^[0-9]+$ && ${hb_start:-} =~ ^[0-9]+$ ]]; then
    echo "$(date -u -d "@$hb_last" +%FT%TZ) killed: $((hb_last - hb_start)) s wall (to its last heartbeat)" >>"$out/runs.log"
  else
    echo "$(date -u +%FT%TZ) killed: wall time unknown (no heartbeat of that run here)" >>"$out/runs.log"
  fi
fi
start=$(date +%s)
stamp=$(date -u -d "@$start" +%FT%TZ)
echo "$stamp start: $lanes lane(s), $(nproc) core(s), ${cpu:-unknown CPU}" >>"$out/runs.log"
# Ends with this script, however it ends ($$ is this script in the subshell).
while kill -0 $$ 2>/dev/null; do
  echo "$stamp $start $(date +%s)" >"$alive.tmp" && mv -f "$alive.tmp" "$alive"
  sleep "${LONG_PRESET_HEARTBEAT_S:-60}"
done &
heartbeat=$!

pids=()
# Stopped (Ctrl-C, kill): the lanes stop too, each losing at most the epoch
# or attack in progress, and runs.log says when.
stop() {
  local p
  for p in "${pids[@]}"; do pkill -TERM -P "$p" 2>/dev/null; done
  kill "${pids[@]}" "$heartbeat" 2>/dev/null
  echo "$(date -u +%FT%TZ) stopped: $(($(date +%s) - start)) s wall" >>"$out/runs.log"
  exit 1
}
trap stop INT TERM
for ((i = 0; i < lanes; i++)); do
  (
    for b in "${binaries[@]}"; do
      "$bin/$b" --preset="$preset" --out_dir="$out" --shard="$i/$lanes" --threads=1 || exit 1
    done
  ) >"$logs/lane$i.log" 2>&1 &
  pids+=($!)
  echo "lane $i: $logs/lane$i.log"
done
rc=0
for ((i = 0; i < lanes; i++)); do
  if ! wait "${pids[$i]}"; then
    echo "lane $i failed: $logs/lane$i.log" >&2
    tail -5 "$logs/lane$i.log" >&2
    rc=1
  fi
done
if ((rc == 0)); then
  for b in "${binaries[@]}"; do
    if ! "$bin/$b" --preset="$preset" --out_dir="$out" --merge --threads="$(nproc)" \
      >"$logs/$b.md" 2>"$logs/$b.merge.log"; then
      echo "$b --merge failed: $logs/$b.merge.log" >&2
      tail -5 "$logs/$b.merge.log" >&2
      rc=1
    fi
  done
fi
kill "$heartbeat" 2>/dev/null
echo "$(date -u +%FT%TZ) end (exit $rc): $(($(date +%s) - start)) s wall" >>"$out/runs.log"
if ((rc == 0)); then
  echo "tables: $(ls "$out"/table*.md | tr '\n' ' ')"
  # README.md shows the repository's own results/long and results/eps03.
  if [[ $(cd "$out" && pwd) == "$root/results/$preset" ]]; then
    python3 tools/long_readme.py || rc=1
  fi
fi
exit $rc
