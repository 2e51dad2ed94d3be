#!/usr/bin/python3
"""Eager-PyTorch reference for //benchmarks:train_throughput.

One SPAT training step as eager PyTorch runs it: inner PGD (Gaussian start,
the self-paced KL as the attack loss, clean logits computed once), then the
outer SPAT loss on the NCE head, backward and SGD with momentum. Same model
definitions, batch, steps and random data as the C++ benchmark, so the two
img/s figures compare like with like:

    /usr/bin/python3 tools/eager_reference.py --model small_cnn --batch 128 \
        --steps 10 --iters 8 --threads 2 [--device cuda] [--profile]

prints one JSON line {"impl": "eager", "img_per_s": ...}. --profile prints
torch.profiler's per-operator table instead (where the time goes).
--compile=default runs the attack loss and the training loss through
torch.compile (torch 2.x; the first steps, untimed, compile them).
Runs under Debian's python3-torch (1.13; apt-get install python3-torch) and
under the torch 2.x package tools/setup.sh installs
(~/.cache/spat/torch-2.11.0/bin/python); tools that call it skip when no
torch is there.
"""
import argparse
import json
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

import torch_eval  # tools/, the script's own directory


class NceHead(nn.Module):
    def __init__(self, dim, classes, s=5.0):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(classes, dim) * 0.01)
        self.s = s

    def cosines(self, z):
        return F.normalize(z, dim=1) @ F.normalize(self.weight, dim=1).t()

    def forward(self, z):
        return self.s * self.cosines(z)


class SmallCNN(nn.Module):
    """The reference SmallCNN of tools/torch_eval.py, with the NCE head above."""

    def __init__(self):
        super().__init__()
        self.body = torch_eval.SmallCNN()  # its fc3 is left unused
        self.head = NceHead(200, 10)
        self.shape = (1, 28, 28)

    def embed(self, x):
        z = self.body.feature_extractor(x).flatten(1)
        return F.relu(self.body.fc2(F.relu(self.body.fc1(z))))


class BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Sequential()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                          nn.BatchNorm2d(cout))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(out)) + self.shortcut(x))


class ResNet18(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        layers, cin = [], 64
        for cout, stride in [(64, 1), (128, 2), (256, 2), (512, 2)]:
            layers += [BasicBlock(cin, cout, stride), BasicBlock(cout, cout, 1)]
            cin = cout
        self.layers = nn.Sequential(*layers)
        self.head = NceHead(512, 10)
        self.shape = (3, 32, 32)

    def embed(self, x):
        out = self.layers(F.relu(self.bn1(self.conv1(x))))
        return F.adaptive_avg_pool2d(out, 1).flatten(1)


def self_paced_kl(nat, adv, beta=0.2):
    """Per-example self-paced KL(p_nat || p_adv) (eq. 12-13 in spirit)."""
    p_nat = F.softmax(nat, dim=1)
    kl = (p_nat * (F.log_softmax(nat, dim=1) - F.log_softmax(adv, dim=1))).sum(1)
    gain = (1 - F.softmax(adv, dim=1).max(1).values + beta).detach()
    return gain * kl


def inner_loss(model, nat, adv):
    """The attack's loss: the self-paced KL of adv's logits against nat's."""
    return self_paced_kl(nat, model.head(model.embed(adv))).sum()


def outer_loss(model, x, adv, y, lam):
    """SPAT's training loss: reweighted CE on the NCE head plus lam * KL."""
    z = model.embed(x)
    cos = model.head.cosines(z)
    logits_nat = model.head.s * cos
    logits_adv = model.head(model.embed(adv))
    gain = (1 - cos.gather(1, y[:, None]).squeeze(1) + 0.2).detach()
    return (gain * F.cross_entropy(logits_nat, y, reduction='none')).mean() + \
        lam * self_paced_kl(logits_nat, logits_adv).mean()


def spat_step(model, opt, x, y, eps, step, steps, lam=6.0, inner=inner_loss, outer=outer_loss):
    model.eval()
    with torch.no_grad():
        nat = model.head(model.embed(x))
    adv = x + 0.001 * torch.randn_like(x)
    for _ in range(steps):
        adv.requires_grad_(True)
        grad, = torch.autograd.grad(inner(model, nat, adv), [adv])
        with torch.no_grad():
            adv = torch.min(torch.max(adv + step * grad.sign(), x - eps), x + eps).clamp(0, 1)
    model.train()
    loss = outer(model, x, adv.detach(), y, lam)
    opt.zero_grad()
    loss.backward()
    opt.step()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--model', choices=['small_cnn', 'resnet18'], default='small_cnn')
    ap.add_argument('--batch', type=int, default=128)
    ap.add_argument('--steps', type=int, default=10)
    ap.add_argument('--iters', type=int, default=8)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--device', default='cpu', help='cpu | cuda | cuda:N')
    ap.add_argument('--profile', action='store_true')
    ap.add_argument('--compile', default='', metavar='MODE',
                    help='torch.compile the attack loss and the training loss with their '
                         'backward (inductor; MODE: default, reduce-overhead, max-autotune); '
                         'the attack loop and the SGD step stay eager. Needs torch >= 2.0')
    a = ap.parse_args()
    if a.batch < 1 or a.steps < 1 or a.iters < 1 or a.threads < 1:
        ap.error('--batch, --steps, --iters and --threads must be >= 1')
    if a.device.startswith('cuda') and not torch.cuda.is_available():
        ap.error('--device %s: this torch has no CUDA device' % a.device)
    if a.compile and not hasattr(torch, 'compile'):
        ap.error('--compile: torch %s has no torch.compile (2.0 or later)' % torch.__version__)
    device = torch.device(a.device)
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = SmallCNN() if a.model == 'small_cnn' else ResNet18()
    model.to(device)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
    x = torch.rand(a.batch, *model.shape).to(device)
    y = torch.randint(0, 10, (a.batch,)).to(device)

    def sync():
        if device.type == 'cuda':
            torch.cuda.synchronize(device)
    eps, step = (0.3, 0.01) if a.model == 'small_cnn' else (8 / 255, 2 / 255)
    fns = {}
    if a.compile:
        fns = {'inner': torch.compile(inner_loss, mode=a.compile),
               'outer': torch.compile(outer_loss, mode=a.compile)}
    t0 = time.perf_counter()
    # Warm-up: cuDNN picks its kernels; torch.compile compiles (train and eval).
    spat_step(model, opt, x, y, eps, step, a.steps, **fns)
    spat_step(model, opt, x, y, eps, step, a.steps, **fns)
    sync()
    warmup_s = time.perf_counter() - t0
    sync()
    if a.profile:
        with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
            for _ in range(a.iters):
                spat_step(model, opt, x, y, eps, step, a.steps, **fns)
        print(prof.key_averages().table(sort_by='self_cpu_time_total', row_limit=25))
        return
    t0 = time.perf_counter()
    for _ in range(a.iters):
        spat_step(model, opt, x, y, eps, step, a.steps, **fns)
    sync()
    s = time.perf_counter() - t0
    impl = 'compiled (%s)' % a.compile if a.compile else 'eager'
    print(json.dumps({'impl': impl, 'warmup_s': round(warmup_s, 1), 'model': a.model, 'batch_size': a.batch,
                      'num_steps': a.steps, 'threads': a.threads, 'iters': a.iters,
                      'torch': torch.__version__, 'device': str(device),
                      'img_per_s': round(a.batch * a.iters / s, 1),
                      'ms_per_step': round(1000 * s / a.iters, 1)}))


if __name__ == '__main__':
    main()
