#!/usr/bin/env bash
# Python's torch.load must read our checkpoints as ordered dicts of tensors
# with the expected keys, shapes, dtypes and values. Needs Debian's
# python3-torch; skipped (exit 0 with a notice) where it is absent.
set -euo pipefail
PY=/usr/bin/python3
if ! "$PY" -c "import torch" 2>/dev/null; then
  echo "SKIPPED: $PY has no torch module (apt-get install python3-torch)"
  exit 0
fi
out="${TEST_TMPDIR:-$(mktemp -d)}/ckpts"
mkdir -p "$out"
models/write_checkpoints "$out"
"$PY" models/internal/check_torch_load.py "$out"
