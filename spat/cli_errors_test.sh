#!/bin/bash
# The training CLI on bad input: every case ends with a clear message naming
# the file or flag and exit code 1 (bad data / failed run) or 2 (bad usage),
# never a signal. Data is a tiny MNIST-format set written here.
set -uo pipefail
train="${TEST_SRCDIR}/${TEST_WORKSPACE}/spat/train"
tmp="${TEST_TMPDIR}/cli"
rm -rf "$tmp"; mkdir -p "$tmp"
failures=0

be32() { printf "\\x$(printf %02x $(( ($1 >> 24) & 255 )))\\x$(printf %02x $(( ($1 >> 16) & 255 )))\\x$(printf %02x $(( ($1 >> 8) & 255 )))\\x$(printf %02x $(( $1 & 255 )))"; }
images() {  # images FILE N
  { be32 2051; be32 "$2"; be32 28; be32 28; head -c $(( $2 * 784 )) /dev/zero | tr '\0' '\100'; } > "$1"
}
labels() {  # labels FILE N [MAGIC]
  { be32 "${3:-2049}"; be32 "$2"; for ((i = 0; i < $2; i++)); do printf "\\x0$(( i % 10 ))"; done; } > "$1"
}
make_set() {  # make_set DIR
  mkdir -p "$1"
  images "$1/train-images-idx3-ubyte" 64; labels "$1/train-labels-idx1-ubyte" 64
  images "$1/t10k-images-idx3-ubyte" 32; labels "$1/t10k-labels-idx1-ubyte" 32
}

# expect NAME RC PATTERN -- ARGS...: runs train, checks the exit code and that
# stderr contains PATTERN (a fixed string).
expect() {
  local name="$1" want="$2" pattern="$3"; shift 4
  local err="$tmp/$name.err"
  "$train" "$@" > /dev/null 2> "$err"
  local rc=$?
  if (( rc > 128 )); then
    echo "FAIL [$name]: killed by signal $(( rc - 128 ))"; cat "$err"; failures=$((failures + 1)); return
  fi
  if [[ "$rc" != "$want" ]]; then
    echo "FAIL [$name]: exit $rc, want $want"; tail -3 "$err"; failures=$((failures + 1)); return
  fi
  if ! grep -qF -- "$pattern" "$err"; then
    echo "FAIL [$name]: stderr lacks '$pattern':"; tail -3 "$err"; failures=$((failures + 1)); return
  fi
  echo "ok   [$name] exit $rc: $(grep -F -- "$pattern" "$err" | head -1 | cut -c1-160)"
}

# The tiny set's images are all alike: no model leaves chance on it, which
# the collapse check would stop (tested on its own below).
tiny=(--dataset=mnist --model=small_cnn --method=natural --epochs=1 --batch_size=32
      --eval_steps=1 --threads=1 --stop_at_chance=false)

good="$tmp/good"; make_set "$good"
expect good 0 "training small_cnn" -- "${tiny[@]}" --data_dir="$good" --out_dir="$tmp/run-good"
# A run that never leaves chance is stopped, recorded, and exits 1 saying so.
expect at_chance 1 "the run collapsed at epoch 1: clean accuracy" -- "${tiny[@]}" \
  --stop_at_chance=true --data_dir="$good" --out_dir="$tmp/run-chance"
grep -q '"collapsedEpoch": 1\|"collapsed_epoch": 1' "$tmp/run-chance/metrics.json" ||
  { echo "FAIL [at_chance]: metrics.json does not record the collapse"; failures=$((failures + 1)); }
expect ramp_too_long 2 "train_attack.ramp_epochs" -- "${tiny[@]}" --method=madry --ramp_epochs=3 \
  --data_dir="$good" --out_dir="$tmp/run-ramp"

bad="$tmp/truncated"; make_set "$bad"
head -c 20000 "$good/train-images-idx3-ubyte" > "$bad/train-images-idx3-ubyte"
expect truncated_images 1 "train-images-idx3-ubyte: truncated" -- "${tiny[@]}" --data_dir="$bad" --out_dir="$tmp/r1"

bad="$tmp/magic"; make_set "$bad"
labels "$bad/train-labels-idx1-ubyte" 64 2051
expect wrong_label_magic 1 "train-labels-idx1-ubyte: bad magic number" -- "${tiny[@]}" --data_dir="$bad" --out_dir="$tmp/r2"

bad="$tmp/label200"; make_set "$bad"
printf '\xc8' | dd of="$bad/t10k-labels-idx1-ubyte" bs=1 seek=13 conv=notrunc 2> /dev/null
expect label_200 1 "t10k-labels-idx1-ubyte: label 200 at index 5 is out of range" -- "${tiny[@]}" --data_dir="$bad" --out_dir="$tmp/r3"

expect missing_data_dir 1 "/nonexistent/mnist" -- "${tiny[@]}" --data_dir=/nonexistent/mnist --out_dir="$tmp/r4"
expect negative_epsilon 2 "--epsilon (train_attack.epsilon) = -1 is out of range" -- "${tiny[@]}" --method=madry --epsilon=-1 --data_dir="$good" --out_dir="$tmp/r5"
expect unknown_model 2 "--model (model.name): unknown value 'vgg16'" -- "${tiny[@]}" --model=vgg16 --data_dir="$good" --out_dir="$tmp/r6"
expect unknown_method 2 "--method (method.name): unknown value 'fgsm_at'" -- "${tiny[@]}" --method=fgsm_at --out_dir="$tmp/r7"
expect unknown_dataset 2 "--dataset (dataset.name): unknown value 'svhn'" -- "${tiny[@]}" --dataset=svhn --out_dir="$tmp/r8"
expect zero_batch 2 "--batch_size (optimizer.batch_size) = 0" -- "${tiny[@]}" --batch_size=0 --out_dir="$tmp/r9"
expect zero_s 2 "--s (method.s) = 0" -- "${tiny[@]}" --method=spat --s=0 --out_dir="$tmp/r10"
expect negative_alpha 2 "--alpha (method.alpha) = -0.1" -- "${tiny[@]}" --alpha=-0.1 --out_dir="$tmp/r11"
expect negative_lambda 2 "--lambda (method.lambda) = -1" -- "${tiny[@]}" --lambda=-1 --out_dir="$tmp/r12"
expect nan_lr 2 "--lr (optimizer.lr) = nan" -- "${tiny[@]}" --lr=nan --out_dir="$tmp/r13"
expect inf_step 2 "--step_size (train_attack.step_size) = inf" -- "${tiny[@]}" --method=madry --step_size=inf --out_dir="$tmp/r14"
expect zero_steps 2 "--num_steps (train_attack.num_steps) = 0" -- "${tiny[@]}" --method=trades --num_steps=0 --out_dir="$tmp/r15"
expect zero_eval_every 2 "--eval_every (eval_every) = 0" -- "${tiny[@]}" --eval_every=0 --out_dir="$tmp/r15e"
expect not_a_number 2 "epsilon" -- "${tiny[@]}" --epsilon=abc --out_dir="$tmp/r16"
expect unknown_flag 2 "unknown flag --epsilom" -- "${tiny[@]}" --epsilom=0.3 --out_dir="$tmp/r21"
expect no_out_dir 2 "--out_dir is required" -- "${tiny[@]}"
expect missing_config 2 "--config: cannot open config $tmp/none.textproto" -- --config="$tmp/none.textproto" --out_dir="$tmp/r17"
echo 'method { name: "spat" s: }' > "$tmp/broken.textproto"
expect broken_config 2 "broken.textproto: cannot parse config" -- --config="$tmp/broken.textproto" --out_dir="$tmp/r18"
expect stray_argument 2 "unexpected argument 'extra'" -- "${tiny[@]}" --out_dir="$tmp/r19" extra
expect resume_nothing 1 "cannot resume" -- "${tiny[@]}" --data_dir="$good" --out_dir="$tmp/r20" --resume
expect resume_changed 1 "different configuration" -- "${tiny[@]}" --data_dir="$good" --out_dir="$tmp/run-good" --lr=0.5 --resume
expect unknown_device 2 "--device (device): unknown value 'tpu'" -- "${tiny[@]}" --device=tpu --out_dir="$tmp/r22"
if ! command -v nvidia-smi > /dev/null; then  # Debian's LibTorch has no CUDA
  expect cuda_unavailable 2 "--device=cuda: 'cuda' needs CUDA" -- "${tiny[@]}" --data_dir="$good" --device=cuda --out_dir="$tmp/r23"
fi
# The device is not part of what --resume compares: a run may move.
expect resume_other_device 0 "resuming" -- "${tiny[@]}" --data_dir="$good" --out_dir="$tmp/run-good" --epochs=2 --device=auto --resume
# Nor is the data's folder: a run may move to a machine that keeps it elsewhere.
cp -r "$good" "$tmp/moved"
expect resume_moved_data 0 "resuming" -- "${tiny[@]}" --data_dir="$tmp/moved" --out_dir="$tmp/run-good" --epochs=3 --resume
# The per-epoch evaluation runs the attack it names, every name of the suite
# (the attacks of //attacks:evaluate), or refuses the field: never a silent PGD.
for name in clean fgsm pgd mim cw apgd_ce apgd_t fab square aa; do
  steps=(--eval_steps=2)
  [[ "$name" == clean || "$name" == fgsm ]] && steps=()
  expect "eval_$name" 0 "training small_cnn" -- --dataset=mnist --method=natural --epochs=1 \
    --batch_size=32 --threads=1 --stop_at_chance=false --data_dir="$good" \
    --eval_attack="$name" "${steps[@]}" --out_dir="$tmp/eval-$name"
  grep -q '"eval_protocol"' "$tmp/eval-$name/metrics.json" ||
    { echo "FAIL [eval_$name]: no eval_protocol in metrics.json"; failures=$((failures + 1)); }
done
grep -q 'fab (white-box)' "$tmp/eval-fab/metrics.json" ||
  { echo "FAIL [eval_fab]: metrics.json does not say FAB ran"; failures=$((failures + 1)); }
printf 'method { name: "natural" }\neval_attack { name: "fab" num_steps: 20 }\n' > "$tmp/fab.textproto"
expect fab_config 0 "fab-20" -- --config="$tmp/fab.textproto" --epochs=1 --batch_size=32 --threads=1 \
  --stop_at_chance=false --data_dir="$good" --out_dir="$tmp/fab-run"
expect fgsm_steps 2 "--eval_steps (eval_attack.num_steps): attack 'fgsm' takes no step count" -- \
  "${tiny[@]}" --eval_attack=fgsm --out_dir="$tmp/r24"
expect transfer_eval 2 "--eval_attack (eval_attack.name): unknown value 'transfer_pgd20'" -- \
  "${tiny[@]}" --eval_attack=transfer_pgd20 --out_dir="$tmp/r25"
printf 'method { name: "madry" }\ntrain_attack { name: "fab" }\n' > "$tmp/train_fab.textproto"
expect train_attack_fab 2 "train_attack.name: unknown value 'fab'" -- --config="$tmp/train_fab.textproto" \
  --out_dir="$tmp/r26"
printf 'method { name: "madry" }\ntrain_attack { loss: "kl" }\n' > "$tmp/train_kl.textproto"
expect train_attack_loss 2 "train_attack.loss: 'kl' is not used" -- --config="$tmp/train_kl.textproto" \
  --out_dir="$tmp/r27"
# The recipe options: schedules and init, recorded in config.textproto.
expect one_cycle 0 "training small_cnn" -- "${tiny[@]}" --data_dir="$good" --lr_schedule=one_cycle \
  --warmup_fraction=0.3 --init=torch_default --out_dir="$tmp/one-cycle"
grep -q 'lr_schedule: ONE_CYCLE' "$tmp/one-cycle/config.textproto" && grep -q 'init: TORCH_DEFAULT' "$tmp/one-cycle/config.textproto" ||
  { echo "FAIL [one_cycle]: config.textproto lacks the schedule or init"; failures=$((failures + 1)); }
expect bad_schedule 2 "--lr_schedule must be step, cosine or one_cycle" -- "${tiny[@]}" --lr_schedule=linear --out_dir="$tmp/r28"
expect bad_init 2 "--init must be reference or torch_default" -- "${tiny[@]}" --init=xavier --out_dir="$tmp/r29"
# The open choices of Table 8: NCE prototype init and the unclamped start.
expect choices 0 "training small_cnn" -- "${tiny[@]}" --data_dir="$good" --method=spat \
  --num_steps=1 --prototype_init=normal_0_01 --clamp_start=false --out_dir="$tmp/choices"
grep -q 'prototype_init: NORMAL_0_01' "$tmp/choices/config.textproto" && grep -q 'clamp_start: false' "$tmp/choices/config.textproto" ||
  { echo "FAIL [choices]: config.textproto lacks prototype_init or clamp_start"; failures=$((failures + 1)); }
expect bad_prototype_init 2 "--prototype_init must be nn_linear or normal_0_01" -- "${tiny[@]}" --prototype_init=zeros --out_dir="$tmp/r29b"
expect prototypes_of_linear_head 2 "--prototype_init (model.prototype_init): NORMAL_0_01 sets the NCE head's prototypes" -- \
  "${tiny[@]}" --method=trades --prototype_init=normal_0_01 --out_dir="$tmp/r29c"
expect warmup_without_one_cycle 2 "--warmup_fraction (optimizer.warmup_fraction): used by lr_schedule ONE_CYCLE only" -- \
  "${tiny[@]}" --warmup_fraction=0.2 --out_dir="$tmp/r30"
touch "$tmp/a_file"
expect unwritable_out_dir 1 "a_file is not a directory" -- "${tiny[@]}" --data_dir="$good" --out_dir="$tmp/a_file/sub"

if (( failures > 0 )); then echo "$failures case(s) failed"; exit 1; fi
echo PASS
