#!/usr/bin/env python3
"""Tests of tools/fetch_mnist.py without network or numpy.

The pickles are written as numpy writes them (the same GLOBAL records and
__setstate__ tuples) through stand-in modules named numpy.*, so the test
needs neither numpy nor the real MNIST.

    python3 tools/fetch_mnist_test.py
"""
import gzip
import io
import os
import pickle
import struct
import sys
import tempfile
import types
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fetch_mnist  # noqa: E402


def _fake_numpy():
    """Modules numpy and numpy.core.multiarray whose objects pickle as numpy's."""
    np = types.ModuleType("numpy")
    core = types.ModuleType("numpy.core")
    multiarray = types.ModuleType("numpy.core.multiarray")

    def _reconstruct(*args):
        raise AssertionError("only pickled here, never loaded")

    class dtype:  # noqa: N801 (numpy's name)
        def __init__(self, code):
            self.code = code

        def __reduce__(self):
            return (dtype, (self.code, 0, 1), (3, "<", None, None, None, -1, -1, 0))

    class ndarray:  # noqa: N801
        def __init__(self, shape, code, data):
            self.shape, self.code, self.data = shape, code, data

        def __reduce__(self):
            return (_reconstruct, (ndarray, (0,), b"b"),
                    (1, self.shape, dtype(self.code), False, self.data))

    for obj, mod, name in [(_reconstruct, multiarray, "_reconstruct"),
                           (dtype, np, "dtype"), (ndarray, np, "ndarray")]:
        obj.__module__, obj.__qualname__ = mod.__name__, name
        setattr(mod, name, obj)
    np.core, core.multiarray = core, multiarray
    return {"numpy": np, "numpy.core": core, "numpy.core.multiarray": multiarray}


FAKE = _fake_numpy()
ndarray = FAKE["numpy"].ndarray


def images(pixels, n):
    """n images of 784 float32 pixels byte/256, cycling through `pixels`."""
    values = [pixels[i % len(pixels)] / 256.0 for i in range(n * 784)]
    return ndarray((n, 784), "f4", struct.pack("<%df" % len(values), *values))


def labels(values):
    return ndarray((len(values),), "i8", struct.pack("<%dq" % len(values), *values))


def pickled(obj):
    saved = {k: sys.modules.get(k) for k in FAKE}
    sys.modules.update(FAKE)
    try:
        blob = pickle.dumps(obj, protocol=3)
    finally:
        for k, v in saved.items():
            if v is None:
                del sys.modules[k]
            else:
                sys.modules[k] = v
    return io.BytesIO(gzip.compress(blob))


class FilesFromPickle(unittest.TestCase):
    def test_rebuilds_idx_files_byte_for_byte(self):
        data = ((images([0, 1, 255], 2), labels([3, 9])),
                (images([7], 1), labels([0])),
                (images([128, 2], 1), labels([5])))
        files = fetch_mnist.files_from_pickle(pickled(data))
        train = files["train-images-idx3-ubyte"]
        self.assertEqual(train[:16], struct.pack(">IIII", 2051, 3, 28, 28))
        self.assertEqual(len(train), 16 + 3 * 784)
        self.assertEqual(train[16:19], bytes([0, 1, 255]))
        self.assertEqual(train[16 + 2 * 784:16 + 2 * 784 + 2], bytes([7, 7]))
        self.assertEqual(files["train-labels-idx1-ubyte"],
                         struct.pack(">II", 2049, 3) + bytes([3, 9, 0]))
        self.assertEqual(files["t10k-images-idx3-ubyte"][16:18], bytes([128, 2]))
        self.assertEqual(files["t10k-labels-idx1-ubyte"], struct.pack(">II", 2049, 1) + b"\x05")

    def test_refuses_a_pixel_that_is_not_a_byte_over_256(self):
        bad = images([1], 1)
        bad.data = struct.pack("<f", 0.3) + bad.data[4:]
        data = ((bad, labels([1])), (images([0], 1), labels([1])), (images([0], 1), labels([1])))
        with self.assertRaisesRegex(fetch_mnist.SourceError, "byte / 256"):
            fetch_mnist.files_from_pickle(pickled(data))

    def test_refuses_a_label_outside_0_to_9(self):
        data = ((images([0], 1), labels([10])), (images([0], 1), labels([1])),
                (images([0], 1), labels([1])))
        with self.assertRaisesRegex(fetch_mnist.SourceError, "label"):
            fetch_mnist.files_from_pickle(pickled(data))

    def test_runs_no_code_from_the_download(self):
        class Evil:
            def __reduce__(self):
                return (os.system, ("echo pwned",))
        with self.assertRaisesRegex(fetch_mnist.SourceError, "posix.system|os.system"):
            fetch_mnist.files_from_pickle(io.BytesIO(gzip.compress(pickle.dumps(Evil()))))


class Install(unittest.TestCase):
    def test_a_wrong_hash_writes_nothing(self):
        files = {name: b"not mnist" for name in fetch_mnist.SHA256}
        with tempfile.TemporaryDirectory() as dest:
            with self.assertRaisesRegex(fetch_mnist.SourceError, "SHA-256"):
                fetch_mnist.install(files, dest)
            self.assertEqual(os.listdir(dest), [])
            self.assertEqual(len(fetch_mnist.verified(dest)), 4)

    def test_a_folder_without_the_files_is_named(self):
        with tempfile.TemporaryDirectory() as src:
            with self.assertRaisesRegex(fetch_mnist.SourceError, "train-images-idx3-ubyte"):
                fetch_mnist.read_folder(src)

    def test_reads_gzip_files_from_a_folder(self):
        with tempfile.TemporaryDirectory() as src:
            for name in fetch_mnist.SHA256:
                with gzip.open(os.path.join(src, name + ".gz"), "wb") as f:
                    f.write(name.encode())
            files = fetch_mnist.read_folder(src)
            self.assertEqual(files["t10k-labels-idx1-ubyte"], b"t10k-labels-idx1-ubyte")


if __name__ == "__main__":
    unittest.main()
