#!/usr/bin/env bash
# Rewrites spat/testdata/parity_{spat,trades}.pt, the fixtures of
# //spat:parity_test, with the independent eager-PyTorch implementation in
# tools/spat_reference.py (needs Debian's python3-torch and MNIST from
# tools/setup.sh). Two SGD steps of batch 32 on the first 64 MNIST training
# images, eps 0.2, 5 inner steps of 0.05, s 5, alpha = beta = 0.2, lambda 6,
# lr 0.01, momentum 0.9, no weight decay: the quick protocol of issue 16.
# The start x + 0.001 N(0, 1) is clamped to [0, 1] as our PGD does (the
# authors' script does not; measured to change nothing, see docs/training.md).
set -euo pipefail
cd "$(dirname "$0")/.."
for method in spat trades; do
  /usr/bin/python3 tools/spat_reference.py fixture --method "$method" --batch 32 \
    --num_batches 2 --threads 1 --clamp_start --out "spat/testdata/parity_$method.pt"
done
