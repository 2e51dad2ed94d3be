#!/bin/bash
# SIGKILL at arbitrary moments, then --resume, until the run finishes: the
# final checkpoint.pt must be byte-identical to an uninterrupted run's (same
# machine, same threads). Kills land during training, evaluation and the
# writing of checkpoints; a kill before the first epoch ends restarts fresh.
set -uo pipefail
train="${TEST_SRCDIR}/${TEST_WORKSPACE}/spat/train"
tmp="${TEST_TMPDIR}/kill_resume"
rm -rf "$tmp"; mkdir -p "$tmp"
# A model this small may sit at chance for its first epochs: not a collapse
# here (--stop_at_chance=false trains on).
args=(--dataset=synthetic_cifar10 --model=lenet5 --method="${METHOD:-spat}" --train_subset=1024
      --test_subset=64 --epochs=6 --batch_size=64 --num_steps=2 --eval_steps=2 --threads=1
      --epsilon=0.03 --step_size=0.01 --augment=true --stop_at_chance=false)

"$train" "${args[@]}" --out_dir="$tmp/full" > /dev/null 2> "$tmp/full.log" || {
  echo "FAIL: the uninterrupted run failed"; cat "$tmp/full.log"; exit 1; }

# Delays (seconds) before each SIGKILL; deterministic so failures reproduce.
delays=(0.2 1.1 0.45 1.7 0.8 0.35 1.3 0.9 0.6 1.5 0.25 1.0 0.7 1.2 0.5 2.0 0.3 1.4 0.85 1.1)
kills=0
finished=0
for d in "${delays[@]}" 5 10 20; do
  resume=()
  [ -f "$tmp/part/train_state.pt" ] && resume=(--resume)
  "$train" "${args[@]}" --out_dir="$tmp/part" "${resume[@]}" > /dev/null 2>> "$tmp/part.log" &
  pid=$!
  sleep "$d"
  if kill -9 "$pid" 2> /dev/null; then
    wait "$pid" 2> /dev/null
    kills=$((kills + 1))
    epoch=$(grep -o "epoch [0-9]*:" "$tmp/part.log" | tail -1)
    echo "killed after ${d}s (last finished: ${epoch:-none})"
  else
    wait "$pid"; rc=$?
    if [ "$rc" != 0 ]; then echo "FAIL: the resumed run exited $rc"; tail -5 "$tmp/part.log"; exit 1; fi
    finished=1
    break
  fi
done
if [ "$finished" != 1 ]; then
  # A slow machine (or a sanitizer build) outlasts the schedule: finish
  # without killing.
  resume=()
  [ -f "$tmp/part/train_state.pt" ] && resume=(--resume)
  "$train" "${args[@]}" --out_dir="$tmp/part" "${resume[@]}" > /dev/null 2>> "$tmp/part.log" ||
    { echo "FAIL: the final resumed run failed"; tail -5 "$tmp/part.log"; exit 1; }
fi
(( kills >= 5 )) || { echo "FAIL: only $kills kills landed; the schedule is too slow for this machine"; exit 1; }
if ! cmp "$tmp/full/checkpoint.pt" "$tmp/part/checkpoint.pt"; then
  echo "FAIL: after $kills SIGKILLs the resumed checkpoint differs from the uninterrupted run's"
  exit 1
fi
# The metrics of every epoch survived too.
n=$(grep -o '"epoch":' "$tmp/part/metrics.json" | wc -l)
[ "$n" = 6 ] || { echo "FAIL: metrics.json lists $n epochs, want 6"; cat "$tmp/part/metrics.json"; exit 1; }
ls "$tmp/part" | grep -q '\.tmp\.' && echo "note: a temporary file of a killed write remains (harmless)"
echo "PASS: $kills SIGKILLs, final checkpoint byte-identical"
