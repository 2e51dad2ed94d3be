#!/bin/bash
# evaluate --torchscript and --test_images/--test_labels on good and bad
# input: every bad case ends with a message naming the file or flag and exit
# 1 (bad data or model file) or 2 (bad usage), never a signal.
set -uo pipefail
evaluate="${TEST_SRCDIR}/${TEST_WORKSPACE}/attacks/evaluate"
d=models/testdata
tmp="${TEST_TMPDIR}/torchscript_cli"
rm -rf "$tmp"; mkdir -p "$tmp"
failures=0
npy=(--test_images="$d/npy_x.npy" --test_labels="$d/npy_y.npy")
quick=(--attacks=clean,pgd20 --threads=1 --epsilon=0.1)

# expect NAME RC PATTERN -- ARGS...
expect() {
  local name="$1" want="$2" pattern="$3"; shift 4
  "$evaluate" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err"
  local rc=$?
  if ((rc > 128)); then
    echo "FAIL [$name]: killed by signal $((rc - 128))"; failures=$((failures + 1)); return
  fi
  if [[ $rc != "$want" ]]; then
    echo "FAIL [$name]: exit $rc, want $want"; tail -3 "$tmp/$name.err"; failures=$((failures + 1)); return
  fi
  if ! grep -qF -- "$pattern" "$tmp/$name.err" "$tmp/$name.out"; then
    echo "FAIL [$name]: no '$pattern':"; tail -3 "$tmp/$name.err"; failures=$((failures + 1)); return
  fi
  echo "ok   [$name] exit $rc"
}

expect good 0 '"torchscript": "models/testdata/lenet5_torchscript.pt"' -- \
  --torchscript="$d/lenet5_torchscript.pt" "${npy[@]}" "${quick[@]}"
grep -q '"dataset": "npy:models/testdata/npy_x.npy"' "$tmp/good.out" ||
  { echo "FAIL [good]: the report does not name the .npy test set"; failures=$((failures + 1)); }
expect transfer_source 0 '"transfer_pgd20"' -- --torchscript="$d/lenet5_torchscript.pt" \
  --source_torchscript="$d/lenet5_torchscript.pt" "${npy[@]}" --attacks=transfer_pgd20 --threads=1
expect wrong_output 1 "torchscript_wrong_output.pt: forward on 2 images returns shape [2]" -- \
  --torchscript="$d/torchscript_wrong_output.pt" "${npy[@]}" "${quick[@]}"
expect detached 1 "torchscript_detached.pt: its output is not differentiable" -- \
  --torchscript="$d/torchscript_detached.pt" "${npy[@]}" "${quick[@]}"
expect newer_torch 1 "torchscript_future_version.pt: saved by a newer torch" -- \
  --torchscript="$d/torchscript_future_version.pt" "${npy[@]}" "${quick[@]}"
expect state_dict 1 "checkpoint.pt: not a TorchScript module" -- \
  --torchscript=results/long/cells/source_lenet5/checkpoint.pt "${npy[@]}" "${quick[@]}"
expect missing 1 "no_such.pt: no such file" -- --torchscript="$d/no_such.pt" "${npy[@]}" "${quick[@]}"
expect class_count 1 "the module has 10 classes, but the labels of npy:$d/npy_x.npy go up to 11" -- \
  --torchscript="$d/lenet5_torchscript.pt" --test_images="$d/npy_x.npy" \
  --test_labels="$d/npy_y_12_classes.npy" "${quick[@]}"
expect out_of_range 1 "npy_x_out_of_range.npy: values from" -- \
  --torchscript="$d/lenet5_torchscript.pt" --test_images="$d/npy_x_out_of_range.npy" \
  --test_labels="$d/npy_y.npy" "${quick[@]}"
expect both_models 2 "--torchscript replaces --model and --checkpoint" -- \
  --torchscript="$d/lenet5_torchscript.pt" --model=lenet5 "${npy[@]}"
expect labels_alone 2 "--test_images and --test_labels go together" -- \
  --torchscript="$d/lenet5_torchscript.pt" --test_images="$d/npy_x.npy"
expect no_model 2 "--checkpoint is required (or --torchscript" -- "${npy[@]}"
expect transfer_without_source 2 "need --source_checkpoint or --source_torchscript" -- \
  --torchscript="$d/lenet5_torchscript.pt" "${npy[@]}" --attacks=transfer_fgsm
# One of our architectures on the user's .npy test set.
expect native_npy 0 '"checkpoint": "results/long/cells/source_lenet5/checkpoint.pt"' -- \
  --model=lenet5 --checkpoint=results/long/cells/source_lenet5/checkpoint.pt "${npy[@]}" "${quick[@]}"
expect native_labels 1 "go up to 11, beyond the 10 classes of --model" -- --model=lenet5 \
  --checkpoint=results/long/cells/source_lenet5/checkpoint.pt --test_images="$d/npy_x.npy" \
  --test_labels="$d/npy_y_12_classes.npy" "${quick[@]}"
((failures == 0)) && echo PASS || { echo "$failures case(s) failed"; exit 1; }
