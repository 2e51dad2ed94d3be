#!/usr/bin/env bash
# Trains tools/spat_reference.py on issue 16's quick protocol (MNIST, first
# 20,000 training images, 2 epochs, batch 128, eps 0.2, 5 inner steps of
# 0.05, SGD lr 0.01 momentum 0.9, no weight decay) for several seeds and each
# implementation choice on which the paper's equations leave room, and judges
# every checkpoint with tools/torch_eval.py (PGD-20, C&W margin, eps 0.2,
# step 0.02, random start, first 1,000 test images). One JSON line per run.
#
#   tools/reference_variants.sh OUT_DIR [DEVICE] [SEEDS] [VARIANT...]
#   tools/reference_variants.sh /tmp/variants cuda "1 2 3" paper head_randn
#
# Variants run in parallel, seeds one after another. MNIST comes from
# SPAT_DATA_DIR (raw or gzip IDX). REF_FLAGS adds flags to every training run
# and EVAL_N sets the number of test images (smoke runs: REF_FLAGS="--epochs 1
# --train_subset 256" EVAL_N=100).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: tools/reference_variants.sh OUT_DIR [DEVICE] [SEEDS] [VARIANT...]}
device=${2:-cpu}
seeds=${3:-1 2 3}
shift $(( $# < 3 ? $# : 3 ))
variants=("$@")
((${#variants[@]})) || variants=(paper head_randn renormalize detach_gains clamp_start)
data="${SPAT_DATA_DIR:-$HOME/.cache/spat}/mnist"
PY=${PYTHON:-python3}
mkdir -p "$out"

flags_of() {
  case "$1" in
    paper) echo "" ;;
    head_randn) echo "--head_init randn" ;;
    renormalize) echo "--renormalize" ;;
    detach_gains) echo "--detach_gains" ;;
    clamp_start) echo "--clamp_start" ;;
    detach_randn) echo "--detach_gains --head_init randn" ;;
    *) echo "unknown variant '$1'" >&2; return 2 ;;
  esac
}

run_variant() {
  local v=$1 flags
  flags=$(flags_of "$v")
  for s in $seeds; do
    local dir="$out/$v-$s"
    # shellcheck disable=SC2086
    "$PY" tools/spat_reference.py train --seed "$s" --device "$device" --threads ${THREADS:-2} \
      --data "$data" --out_dir "$dir" $flags ${REF_FLAGS:-} > "$dir.train.json" 2> "$dir.log"
    "$PY" tools/torch_eval.py "$dir/checkpoint.pt" --data "$data" --n "${EVAL_N:-1000}" --eps 0.2 \
      --step 0.02 --steps 20 --loss cw --seed "$s" |
      "$PY" -c "import json,sys; e=json.load(sys.stdin); t=json.load(open('$dir.train.json')); \
print(json.dumps({'variant': '$v', 'seed': $s, 'clean': e['clean'], 'pgd20_cw': e['pgd20_cw'], \
'train_seconds': t['seconds'], 'device': t['device'], 'torch': e['torch']}))" >> "$out/results.jsonl"
  done
}

for v in "${variants[@]}"; do flags_of "$v" >/dev/null; done
pids=()
for v in "${variants[@]}"; do run_variant "$v" & pids+=($!); done
status=0
for p in "${pids[@]}"; do wait "$p" || status=1; done
cat "$out/results.jsonl"
exit $status
