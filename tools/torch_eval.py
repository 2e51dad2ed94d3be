#!/usr/bin/python3
"""Independent evaluation of a spat-cpp MNIST checkpoint with PyTorch.

Reads checkpoint.pt with torch.load, rebuilds SmallCNN in PyTorch (the
reference definition, with the NCE head when the checkpoint carries
classifier.fc3.s), reads the MNIST test IDX files itself, and reports clean and
PGD accuracy (l-inf, random start, CE or CW loss) — no spat-cpp code involved.

    /usr/bin/python3 tools/torch_eval.py RUN/checkpoint.pt --n 1000 --eps 0.2 \
        --step 0.02 --steps 20 [--loss ce|cw] [--data ~/.cache/spat/mnist]

Needs Debian's python3-torch (apt-get install python3-torch).
"""
import argparse
import collections
import gzip
import json
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F


# Where tools/setup.sh puts MNIST.
DEFAULT_MNIST = os.path.join(
    os.environ.get('SPAT_DATA_DIR', os.path.expanduser('~/.cache/spat')), 'mnist')


class SmallCNN(nn.Module):
    def __init__(self, nce_scale=None):
        super().__init__()
        self.feature_extractor = nn.Sequential(collections.OrderedDict([
            ('conv1', nn.Conv2d(1, 32, 3)), ('relu1', nn.ReLU()),
            ('conv2', nn.Conv2d(32, 32, 3)), ('relu2', nn.ReLU()),
            ('maxpool1', nn.MaxPool2d(2, 2)),
            ('conv3', nn.Conv2d(32, 64, 3)), ('relu3', nn.ReLU()),
            ('conv4', nn.Conv2d(64, 64, 3)), ('relu4', nn.ReLU()),
            ('maxpool2', nn.MaxPool2d(2, 2))]))
        self.fc1 = nn.Linear(1024, 200)
        self.fc2 = nn.Linear(200, 200)
        self.fc3 = nn.Linear(200, 10, bias=nce_scale is None)
        self.nce_scale = nce_scale

    def forward(self, x):
        z = self.feature_extractor(x).flatten(1)
        z = F.relu(self.fc2(F.relu(self.fc1(z))))
        if self.nce_scale is None:
            return self.fc3(z)
        return self.nce_scale * F.normalize(z, dim=1) @ F.normalize(self.fc3.weight, dim=1).t()


def read_idx(path):
    """Raw or gzip IDX: `path`, else `path`.gz."""
    if not os.path.exists(path) and os.path.exists(path + '.gz'):
        path += '.gz'
    with (gzip.open if path.endswith('.gz') else open)(path, 'rb') as f:
        data = f.read()
    magic = int.from_bytes(data[0:4], 'big')
    ndim = magic & 0xff
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], 'big') for i in range(ndim)]
    t = torch.frombuffer(bytearray(data[4 + 4 * ndim:]), dtype=torch.uint8)
    return t.reshape(dims)


def load_model(path):
    sd = torch.load(path)
    scale = float(sd['classifier.fc3.s']) if 'classifier.fc3.s' in sd else None
    model = SmallCNN(scale)
    mapped = {}
    for k, v in sd.items():
        if k.startswith('classifier.fc'):
            k = k.replace('classifier.', '')
        if k.endswith('.s'):
            continue
        mapped[k] = v
    model.load_state_dict(mapped, strict=True)
    return model.eval()


def margin(logits, y):
    true = logits.gather(1, y[:, None]).squeeze(1)
    other = logits.clone()
    other.scatter_(1, y[:, None], -1e9)
    return other.max(1).values - true


def pgd(model, x, y, eps, step, steps, loss):
    adv = (x + torch.empty_like(x).uniform_(-eps, eps)).clamp(0, 1)
    for _ in range(steps):
        adv.requires_grad_(True)
        z = model(adv)
        l = F.cross_entropy(z, y, reduction='sum') if loss == 'ce' else margin(z, y).sum()
        g, = torch.autograd.grad(l, adv)
        adv = torch.min(torch.max(adv.detach() + step * g.sign(), x - eps), x + eps).clamp(0, 1)
    return adv


def main():
    p = argparse.ArgumentParser()
    p.add_argument('checkpoint')
    p.add_argument('--data', default=DEFAULT_MNIST)
    p.add_argument('--n', type=int, default=1000)
    p.add_argument('--eps', type=float, default=0.3)
    p.add_argument('--step', type=float, default=0.01)
    p.add_argument('--steps', type=int, default=20)
    p.add_argument('--loss', choices=['ce', 'cw'], default='ce')
    p.add_argument('--seed', type=int, default=0)
    a = p.parse_args()
    torch.manual_seed(a.seed)
    torch.set_num_threads(os.cpu_count())
    model = load_model(a.checkpoint)
    x = read_idx(os.path.join(a.data, 't10k-images-idx3-ubyte'))[:a.n].float().div(255).unsqueeze(1)
    y = read_idx(os.path.join(a.data, 't10k-labels-idx1-ubyte'))[:a.n].long()
    clean = adv = 0
    for i in range(0, a.n, 250):
        xb, yb = x[i:i + 250], y[i:i + 250]
        with torch.no_grad():
            clean += (model(xb).argmax(1) == yb).sum().item()
        xa = pgd(model, xb, yb, a.eps, a.step, a.steps, a.loss)
        with torch.no_grad():
            adv += (model(xa).argmax(1) == yb).sum().item()
    print(json.dumps({'checkpoint': a.checkpoint, 'n': a.n, 'clean': 100.0 * clean / a.n,
                      'pgd%d_%s' % (a.steps, a.loss): 100.0 * adv / a.n,
                      'eps': a.eps, 'step': a.step, 'torch': torch.__version__}))


if __name__ == '__main__':
    sys.exit(main())
