#!/usr/bin/python3
"""A PyTorch model to TorchScript, for `evaluate --torchscript`.

`evaluate` attacks any TorchScript module that maps images in [0, 1],
[B, C, H, W], to logits [B, classes] (any normalization inside the module)
and is differentiable with respect to its input. This script shows the
round trip on a model defined and trained in PyTorch, none of ours:

    /usr/bin/python3 tools/export_torchscript.py example --out /tmp/mlp.pt
    bazel run //attacks:evaluate -- --torchscript=/tmp/mlp.pt --dataset=mnist \\
        --epsilon=0.1 --n=1000

`example` trains a small MLP with the MNIST mean/std normalization inside
(one epoch on the MNIST training set that tools/setup.sh fetched, about a
minute on 2 cores), scripts it with torch.jit.script and saves it; `--npy
DIR` also writes the first 1,000 test images and labels as
DIR/x.npy ([N, 1, 28, 28] float32 in [0, 1]) and DIR/y.npy (int64), for
`--test_images=DIR/x.npy --test_labels=DIR/y.npy`.

`convert CHECKPOINT --model small_cnn|lenet5 --out FILE` writes one of our
MNIST checkpoints as TorchScript (the PyTorch definitions of
tools/torch_eval.py and this file), to compare `--torchscript` with
`--model/--checkpoint` on the same weights.

`fixtures DIR` writes the test fixtures of //models:torchscript_test and
//attacks:torchscript_attacks_test: the project's LeNet-5 transfer source
(results/long/cells/source_lenet5/checkpoint.pt) as TorchScript, and
modules that evaluate must refuse (output not [B, classes]; output detached
from the input).

A module saved by a newer torch than the LibTorch evaluate is built against
does not load (evaluate says so): the Bazel build uses Debian's LibTorch
1.13, so export with Debian's python3-torch (1.13, this script's
interpreter); the CMake build against the torch 2.x package loads both.
Exit codes: 0 done, 1 a file could not be read or written, 2 bad usage.
"""
import argparse
import collections
import os
import sys
import zipfile

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_eval  # noqa: E402  (tools/torch_eval.py: MNIST IDX reader)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class NormalizedMlp(nn.Module):
    """Not one of the project's models: normalization inside, two hidden layers."""

    def __init__(self):
        super().__init__()
        self.register_buffer("mean", torch.tensor(0.1307))
        self.register_buffer("std", torch.tensor(0.3081))
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(),
                                 nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 10))

    def forward(self, x):
        return self.net((x - self.mean) / self.std)


class LeNet5(nn.Module):
    """The project's LeNet-5 (models/lenet.cc) on 28x28 images, in PyTorch."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5, padding=2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        h = F.max_pool2d(F.relu(self.conv1(x)), 2)
        h = F.max_pool2d(F.relu(self.conv2(h)), 2)
        h = F.relu(self.fc1(h.flatten(1)))
        return self.fc3(F.relu(self.fc2(h)))


class SumOfLogits(nn.Module):
    """Refused: its output is [B], not [B, classes]."""

    def __init__(self, inner):
        super().__init__()
        self.inner = inner

    def forward(self, x):
        return self.inner(x).sum(1)


class Detached(nn.Module):
    """Refused: no gradient reaches the input."""

    def __init__(self, inner):
        super().__init__()
        self.inner = inner

    def forward(self, x):
        return self.inner(x).detach()


def mnist(split, data_dir):
    prefix = "train" if split == "train" else "t10k"
    def read(kind):
        for name in (f"{prefix}-{kind}-idx{3 if kind == 'images' else 1}-ubyte",):
            for suffix in ("", ".gz"):
                path = os.path.join(data_dir, name + suffix)
                if os.path.exists(path):
                    return torch_eval.read_idx(path)
        raise SystemExit(f"error: no MNIST {prefix} {kind} in {data_dir} (run tools/setup.sh)")
    x = read("images").float().div(255).unsqueeze(1)
    return x, read("labels").long()


def save(module, path):
    scripted = torch.jit.script(module.eval())
    try:
        scripted.save(path)
    except (OSError, RuntimeError) as e:
        raise SystemExit(f"error: {path}: {e}") from None
    print(f"wrote {path}")


def example(args):
    torch.manual_seed(0)
    x, y = mnist("train", args.data)
    model = NormalizedMlp()
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    for i in range(0, len(x), 128):
        loss = F.cross_entropy(model(x[i:i + 128]), y[i:i + 128])
        opt.zero_grad()
        loss.backward()
        opt.step()
    xt, yt = mnist("test", args.data)
    with torch.no_grad():
        acc = (model(xt).argmax(1) == yt).float().mean().item()
    print(f"NormalizedMlp: {100 * acc:.2f}% clean on the 10,000 MNIST test images")
    save(model, args.out)
    if args.npy:
        os.makedirs(args.npy, exist_ok=True)
        np.save(os.path.join(args.npy, "x.npy"), xt[:1000].numpy())
        np.save(os.path.join(args.npy, "y.npy"), yt[:1000].numpy())
        print(f"wrote {args.npy}/x.npy and y.npy (the first 1,000 test images)")


def fixtures(args):
    ckpt = os.path.join(ROOT, "results/long/cells/source_lenet5/checkpoint.pt")
    lenet = LeNet5()
    lenet.load_state_dict(torch.load(ckpt), strict=True)
    os.makedirs(args.dir, exist_ok=True)
    save(lenet, os.path.join(args.dir, "lenet5_torchscript.pt"))
    # The refused ones need no trained weights: a small linear model inside.
    torch.manual_seed(0)
    small = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))
    save(SumOfLogits(small), os.path.join(args.dir, "torchscript_wrong_output.pt"))
    detached = os.path.join(args.dir, "torchscript_detached.pt")
    save(Detached(small), detached)
    # As a torch with a newer file format would write it: the archive's
    # format version raised to 99.
    future = os.path.join(args.dir, "torchscript_future_version.pt")
    with zipfile.ZipFile(detached) as src, zipfile.ZipFile(future, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            dst.writestr(info, b"99\n" if info.filename.endswith("/version") else data)
    print(f"wrote {future}")
    # A user's test set as .npy: 4 images in [0, 1] with labels 0..9; one
    # outside [0, 1]; labels beyond LeNet-5's 10 classes.
    g = torch.Generator().manual_seed(0)
    x = torch.rand(4, 1, 28, 28, generator=g)
    for name, array in (("npy_x.npy", x), ("npy_y.npy", torch.tensor([7, 2, 1, 0])),
                        ("npy_x_out_of_range.npy", x * 2),
                        ("npy_y_12_classes.npy", torch.tensor([7, 2, 11, 0]))):
        np.save(os.path.join(args.dir, name), array.numpy())
        print(f"wrote {os.path.join(args.dir, name)}")


def convert(args):
    if args.model == "small_cnn":
        model = torch_eval.load_model(args.checkpoint)  # NCE head when it has one
    else:
        model = LeNet5()
        model.load_state_dict(torch.load(args.checkpoint), strict=True)
    save(model, args.out)


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    e = sub.add_parser("example", help="train a PyTorch MLP on MNIST and save it as TorchScript")
    e.add_argument("--out", required=True, help="the TorchScript file to write")
    e.add_argument("--npy", help="also write the first 1,000 test images and labels here")
    e.add_argument("--data", default=torch_eval.DEFAULT_MNIST, help="MNIST's folder")
    c = sub.add_parser("convert", help="one of our MNIST checkpoints (small_cnn, lenet5)")
    c.add_argument("checkpoint", help="checkpoint.pt written by train")
    c.add_argument("--model", choices=("small_cnn", "lenet5"), required=True)
    c.add_argument("--out", required=True, help="the TorchScript file to write")
    f = sub.add_parser("fixtures", help="the tests' fixtures")
    f.add_argument("dir", help="where to write them (models/testdata)")
    args = p.parse_args(argv[1:])
    {"example": example, "convert": convert, "fixtures": fixtures}[args.cmd](args)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
