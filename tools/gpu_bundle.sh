#!/usr/bin/env bash
# Fills gpu_bundle/ (git-ignored) with what the GPU machine lacks, to travel
# with a `device` call (carry: ["gpu_bundle"]) and feed tools/gpu_check.sh:
#   gpu_bundle/debs/   Debian 12's .debs of Abseil, glog, gflags, protobuf
#                      (+ protoc), GoogleTest/GoogleMock, Google Benchmark,
#                      libunwind and zlib (~7 MB; unpacked there with dpkg -x
#                      into a prefix, never into /)
#   gpu_bundle/mnist/  MNIST as gzip IDX (~11 MB; the readers take gzip)
# Run it on the CPU machine (it needs Debian's archive and the MNIST that
# tools/setup.sh fetched):
#   tools/gpu_bundle.sh [--out DIR]
# (The paper-protocol runs to continue travel in the checkout:
# results/mnist_paper/, see tools/gpu_results.py.)
set -euo pipefail
cd "$(dirname "$0")/.."
out=gpu_bundle
while (($#)); do
  case $1 in
    --out) out=$2; shift 2 ;;
    --out=*) out=${1#--out=}; shift ;;
    -h|--help) awk 'NR > 1 && /^#/ { print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "gpu_bundle: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
packages=(
  libabsl-dev libabsl20220623
  libgoogle-glog-dev libgoogle-glog0v6 libgflags-dev libgflags2.2 libunwind-dev libunwind8
  libprotobuf-dev libprotobuf32 libprotoc-dev libprotoc32 protobuf-compiler
  libgtest-dev libgmock-dev
  libbenchmark-dev libbenchmark1debian
  zlib1g-dev zlib1g
)
mkdir -p "$out/debs" "$out/mnist"
rm -f "$out"/debs/*.deb
(cd "$out/debs" && apt-get download "${packages[@]}" >/dev/null) || {
  echo "gpu_bundle: apt-get download failed (is Debian's archive reachable?)" >&2
  exit 1
}
echo "gpu_bundle: $(ls "$out"/debs/*.deb | wc -l) .debs, $(du -sh "$out/debs" | cut -f1)"

# MNIST: where tools/setup.sh put it (SPAT_DATA_DIR, else ~/.cache/spat).
src=${SPAT_DATA_DIR:-$HOME/.cache/spat}/mnist
for f in train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte; do
  if [[ -f $src/$f.gz ]]; then
    cp "$src/$f.gz" "$out/mnist/$f.gz"
  elif [[ -f $src/$f ]]; then
    gzip -9 -c "$src/$f" >"$out/mnist/$f.gz"
  else
    echo "gpu_bundle: $src/$f(.gz) is missing; run tools/setup.sh first" >&2
    exit 1
  fi
done
echo "gpu_bundle: MNIST $(du -sh "$out/mnist" | cut -f1)"
echo "gpu_bundle: $(du -sh "$out" | cut -f1) in $out/"
