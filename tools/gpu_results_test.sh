#!/usr/bin/env bash
# tools/gpu_results.py: imports the run folders gpu_check.sh brings back into
# results/ without ever losing a longer run or taking an unexpected file, and
# its summary puts ours beside the paper's Table 4.
set -uo pipefail
py=(python3 tools/gpu_results.py)
tmp=${TEST_TMPDIR:-$(mktemp -d)}/gpu_results
rm -rf "$tmp"
mkdir -p "$tmp"
results=$tmp/results
fails=0
check() {  # check NAME WANT_RC CMD... ; output in $out
  local name=$1 want=$2
  shift 2
  out=$("$@" 2>&1)
  local rc=$?
  if [[ $rc != "$want" ]]; then
    echo "FAILED $name: exit $rc, want $want"
    echo "$out"
    fails=$((fails + 1))
  fi
}
has() {  # has NAME TEXT: $out contains TEXT
  grep -qF -- "$2" <<<"$out" || { echo "FAILED $1: no '$2' in:"; echo "$out"; fails=$((fails + 1)); }
}

# run METHOD EPOCHS_DONE [LR [PLANNED]]: a run folder as train writes it from
# spat/presets/mnist_paper.textproto (80 epochs planned).
run() {
  local d=$tmp/src/cells/$1
  mkdir -p "$d"
  printf 'method {\n  name: "%s"\n}\noptimizer {\n  lr: %s\n  epochs: %s\n}\nout_dir: "%s"\n' \
    "$1" "${3:-0.01}" "${4:-80}" "$d" >"$d/config.textproto"
  python3 - "$d/metrics.json" "$1" "$2" "${4:-80}" <<'PY'
import json, sys
n, planned = int(sys.argv[3]), int(sys.argv[4])
attack = {"name": "pgd", "epsilon": 0.3, "random_start": True, "loss": "ce", "norm": "linf"}
config = {"dataset": {"name": "mnist", "data_dir": "/x", "train_subset": "0", "test_subset": "0"},
          "model": {"name": "small_cnn", "init": "REFERENCE"},
          "method": {"name": sys.argv[2], "s": 5, "alpha": 0.2, "beta": 0.2, "lambda": 6},
          "train_attack": dict(attack, step_size=0.01, num_steps=40),
          "eval_attack": dict(attack, step_size=0.03, num_steps=20),
          "optimizer": {"lr": 0.01, "momentum": 0.9, "weight_decay": 0, "epochs": planned,
                        "batch_size": 128},
          "seed": "1", "threads": 16, "device": "cuda:0"}
json.dump({"config": config, "device": "cuda:0",
           "epochs": [{"epoch": e, "seconds": 9.5, "clean": 90 + e / 10, "pgd": 80 + e / 10}
                      for e in range(1, n + 1)]}, open(sys.argv[1], "w"))
PY
  head -c 1000 /dev/urandom >"$d/checkpoint.pt"
  ((${2} < 80)) && head -c 2000 /dev/urandom >"$d/train_state.pt"
  return 0
}
pack() { tar -czf "$tmp/$1.tar.gz" -C "$tmp/src" "${@:2}"; }

# A first import: SPAT half way, TRADES finished and evaluated.
run spat 3
run trades 80
cat >"$tmp/src/cells/trades/table4_eval.json" <<'EOF'
{"clean": 99.01, "fgsm": 97.5, "pgd20": 96.2, "cw": 96.9, "aa": 95.1, "settings": {"n": 10000}}
EOF
pack first cells/spat cells/trades
check import_first 0 "${py[@]}" import "$tmp/first.tar.gz" --results "$results"
has import_first "spat: 3/80 epochs"
has import_first "| SPAT | 3/80 | 90.30 / 80.30 |"
has import_first "| TRADES | 80/80 | 98.00 / 88.00 | **99.01** (99.10) | **97.50** (97.42) | **96.20** (96.22) | **96.90** (96.01) | **95.10** |"
has import_first "| Madry | not started |"
[[ -f $results/cells/spat/train_state.pt ]] || { echo "FAILED: train_state.pt not imported"; fails=$((fails + 1)); }

# An older archive (fewer epochs) never replaces a longer run.
rm -rf "$tmp/src"
run spat 2
pack older cells/spat
check import_older 1 "${py[@]}" import "$tmp/older.tar.gz" --results "$results"
has import_older "kept ours"
check summary_after_older 0 "${py[@]}" summary --results "$results"
has summary_after_older "| SPAT | 3/80 |"

# Another run under the same name (a changed hyper-parameter) is refused too,
# but the same run's folder in another place is the same run.
rm -rf "$tmp/src"
run spat 5 0.02
pack other cells/spat
check import_other 1 "${py[@]}" import "$tmp/other.tar.gz" --results "$results"
has import_other "another run"
check import_other_forced 0 "${py[@]}" import "$tmp/other.tar.gz" --results "$results" --force
has import_other_forced "| SPAT | 5/80 |"
rm -rf "$tmp/src"
run spat 7 0.02
sed -i 's|^out_dir: .*|out_dir: "/elsewhere"|' "$tmp/src/cells/spat/config.textproto"
pack later cells/spat
check import_later 0 "${py[@]}" import "$tmp/later.tar.gz" --results "$results"
has import_later "| SPAT | 7/80 |"

# Runs of another protocol (gpu_check.sh --quick's) never enter the paper's folder.
rm -rf "$tmp/src"
run madry 2 0.01 2
pack quick cells/madry
check import_quick 1 "${py[@]}" import "$tmp/quick.tar.gz" --results "$results"
has import_quick "optimizer.epochs is 2, the protocol's 80"
[[ ! -e $results/cells/madry ]] || { echo "FAILED: a quick run entered results"; fails=$((fails + 1)); }
check import_quick_elsewhere 0 "${py[@]}" import "$tmp/quick.tar.gz" --results "$tmp/other" --protocol none

# Unexpected entries: nothing is imported.
rm -rf "$tmp/src"
run mart 4
mkdir -p "$tmp/src/cells/mart/x"
echo hi >"$tmp/src/cells/mart/x/evil"
pack unexpected cells/mart
check import_unexpected 1 "${py[@]}" import "$tmp/unexpected.tar.gz" --results "$results"
has import_unexpected "unexpected entry"
[[ ! -e $results/cells/mart ]] || { echo "FAILED: a rejected archive left cells/mart"; fails=$((fails + 1)); }
echo "not a tar" >"$tmp/broken.tar.gz"
check import_broken 1 "${py[@]}" import "$tmp/broken.tar.gz" --results "$results"
check import_missing 2 "${py[@]}" import "$tmp/none.tar.gz" --results "$results"
has import_missing "no such file"

# gpu_check.sh's helpers.
check progress 0 "${py[@]}" progress "$results/cells/trades"
has progress "80 80"
check curve 0 "${py[@]}" curve "$results/cells/spat"
has curve '"epochs_done": 7, "epochs_planned": 80'
check table4_row 0 "${py[@]}" table4_row "$results/cells/trades" trades
has table4_row '"paper": {"Clean": 99.1, "FGSM": 97.42, "PGD-20": 96.22, "C&W": 96.01}'

((fails == 0)) && echo "PASSED" || { echo "$fails check(s) failed"; exit 1; }
