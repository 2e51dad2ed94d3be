#!/usr/bin/python3
"""An independent eager-PyTorch SPAT (and TRADES) trainer, from the paper.

Written from equations (9)-(15) of Hou, Han & Li (AAAI-23) and from TRADES
(Zhang et al. 2019), not from spat-cpp's C++: it is the yardstick that the
C++ trainer is held against (//spat:parity_test, issue 16).

    SPAT  L = L_acc^sp + lambda * L_rob^sp                              (9)
          L_acc^sp = -log softmax(g * s cos theta)_y,                   (10)
                     g_y = 1 - cos theta_y + beta, g_j = cos theta_j + beta (11)
          L_rob^sp = alpha KL(f(x) || f(x')) + sum_j [f_j(x) log f_j(x)/f_j(x')]^2
                                                                        (13-15)
          f = softmax(s cos theta); the inner maximization ascends L_rob^sp
          from x + 0.001 N(0, 1) with signed-gradient steps, model in eval
          mode, clean logits fixed; the outer pass has dropout on.
    TRADES L = CE(f(x), y) + lambda KL(f(x) || f(x')), the inner
          maximization ascends the KL from the same start.

Three commands:

    # the quick protocol of issue 16; writes DIR/checkpoint.pt in spat-cpp's
    # format (tools/torch_eval.py and //attacks:evaluate read it)
    /usr/bin/python3 tools/spat_reference.py train --out_dir runs/ref1 --seed 1

    # one step from the same weights and batch, every intermediate quantity
    # (x' after each inner step, loss terms, gradients, weights after the step)
    /usr/bin/python3 tools/spat_reference.py fixture --method spat \
        --out spat/testdata/parity_spat.pt

`fixture` writes what //spat:parity_test replays in C++ (see
spat/parity_test.cc for the keys). Needs Debian's python3-torch.
"""
import argparse
import collections
import json
import os
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_eval  # noqa: E402  (tools/, for read_idx)


class NceHead(nn.Module):
    """logits = s * cos(theta): normalized features against normalized rows."""

    def __init__(self, dim, classes, s, init='linear', renormalize=False):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(classes, dim))
        if init == 'linear':
            nn.init.kaiming_uniform_(self.weight, a=5 ** 0.5)  # nn.Linear's init
        else:  # 'randn': N(0, 0.01^2), rows of norm ~0.01 sqrt(dim)
            nn.init.normal_(self.weight, std=0.01)
        self.register_buffer('s', torch.tensor(float(s)))
        self.renormalize = renormalize

    def cosines(self, z):
        if self.renormalize:
            # The authors' script: rows reset to unit norm before each forward
            # pass, the gradient taken with respect to the unit rows.
            self.weight.data = F.normalize(self.weight.data, dim=1)
            return F.normalize(z, dim=1) @ self.weight.t()
        return F.normalize(z, dim=1) @ F.normalize(self.weight, dim=1).t()


class SmallCNN(nn.Module):
    """The TRADES/MART/SPAT MNIST network with spat-cpp's parameter names."""

    def __init__(self, s=5.0, nce=True, dropout=0.5, head_init='linear', renormalize=False):
        super().__init__()
        self.feature_extractor = nn.ModuleDict(collections.OrderedDict([
            ('conv1', nn.Conv2d(1, 32, 3)), ('conv2', nn.Conv2d(32, 32, 3)),
            ('conv3', nn.Conv2d(32, 64, 3)), ('conv4', nn.Conv2d(64, 64, 3))]))
        head = NceHead(200, 10, s, head_init, renormalize) if nce else nn.Linear(200, 10)
        self.classifier = nn.ModuleDict(collections.OrderedDict([
            ('fc1', nn.Linear(1024, 200)), ('fc2', nn.Linear(200, 200)), ('fc3', head)]))
        self.nce = nce
        self.dropout = dropout
        # The TRADES reference initialization: Kaiming-normal convolutions,
        # zero biases; a linear output layer starts at zero.
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.zeros_(m.bias)
        if not nce:
            nn.init.zeros_(head.weight)

    def features(self, x):
        f, c = self.feature_extractor, self.classifier
        h = F.max_pool2d(F.relu(f['conv2'](F.relu(f['conv1'](x)))), 2)
        h = F.max_pool2d(F.relu(f['conv4'](F.relu(f['conv3'](h)))), 2)
        h = F.dropout(F.relu(c['fc1'](h.flatten(1))), self.dropout, self.training)
        return F.relu(c['fc2'](h))

    def cosines(self, z):
        return self.classifier['fc3'].cosines(z)

    def logits(self, z):
        head = self.classifier['fc3']
        return head.s * head.cosines(z) if self.nce else head(z)

    def forward(self, x):
        return self.logits(self.features(x))


def spat_gains(cos, y, beta):
    """Eq. (11): g_y = 1 - cos theta_y + beta, g_j = cos theta_j + beta."""
    true = F.one_hot(y, cos.shape[1]).bool()
    return torch.where(true, 1 - cos + beta, cos + beta)


def spat_acc(logits, cos, y, beta, detach_gains=False):
    """Eq. (10), batch mean: cross-entropy of the gain-modulated logits."""
    g = spat_gains(cos, y, beta)
    if detach_gains:
        g = g.detach()
    return -F.log_softmax(g * logits, dim=1).gather(1, y[:, None]).mean()


def spat_rob(logits_nat, logits_adv, alpha):
    """Eq. (13)-(15) per example: alpha KL(f(x)||f(x')) + L_inc^sp."""
    log_p, log_q = F.log_softmax(logits_nat, 1), F.log_softmax(logits_adv, 1)
    t = log_p.exp() * (log_p - log_q)
    return alpha * t.sum(1) + (t * t).sum(1)


def kl(logits_nat, logits_adv):
    log_p, log_q = F.log_softmax(logits_nat, 1), F.log_softmax(logits_adv, 1)
    return (log_p.exp() * (log_p - log_q)).sum(1)


def inner_max(model, x, attack_loss, a, gen, trace=None):
    """Signed-gradient ascent of attack_loss(clean logits, adv logits) from
    x + 0.001 N(0, 1) (not clamped, as in TRADES and the authors' script),
    projected on the eps-ball and [0, 1] after each step."""
    model.eval()
    with torch.no_grad():
        nat = model(x)
    noise = torch.randn(x.shape, generator=gen).to(x.device)
    adv = x + 0.001 * noise
    if a.clamp_start:
        adv = adv.clamp(0, 1)
    if trace is not None:
        trace['noise'] = noise
        trace['adv.0'] = adv.clone()
    for k in range(a.steps):
        adv.requires_grad_(True)
        loss = attack_loss(nat, model(adv)).sum()
        grad, = torch.autograd.grad(loss, [adv])
        with torch.no_grad():
            adv = adv + a.step * grad.sign()
            adv = torch.min(torch.max(adv, x - a.eps), x + a.eps).clamp(0, 1)
        if trace is not None:
            trace['adv.%d' % (k + 1)] = adv.clone()
    model.train()
    return adv.detach()


def step_loss(model, x, y, a, gen, trace=None):
    """The method's loss on one batch (the inner maximization included);
    trace (a dict) receives the intermediates."""
    if a.method == 'spat':
        adv = inner_max(model, x, lambda n, q: spat_rob(n, q, a.alpha), a, gen, trace)
    else:
        adv = inner_max(model, x, kl, a, gen, trace)
    if trace is not None:
        trace['adv'] = adv.clone()
    # Dropout masks: clean rows first, then adversarial rows.
    z, z_adv = model.features(x), model.features(adv)
    logits, logits_adv = model.logits(z), model.logits(z_adv)
    if a.method == 'spat':
        acc = spat_acc(logits, model.cosines(z), y, a.beta, a.detach_gains)
        rob = spat_rob(logits, logits_adv, a.alpha).mean()
    else:
        acc = F.cross_entropy(logits, y)
        rob = kl(logits, logits_adv).mean()
    if trace is not None:
        trace['loss.acc'] = acc.detach().double()
        trace['loss.rob'] = rob.detach().double()
    return acc + a.lam * rob


def make_model(a):
    return SmallCNN(s=a.s, nce=a.method == 'spat', dropout=a.dropout,
                    head_init=a.head_init, renormalize=a.renormalize)


def load_mnist(data, split, n):
    prefix = 'train' if split == 'train' else 't10k'
    for kind in ('images-idx3', 'labels-idx1'):
        f = os.path.join(data, '%s-%s-ubyte' % (prefix, kind))
        if not (os.path.exists(f) or os.path.exists(f + '.gz')):
            sys.exit('error: --data %s has no %s (raw or .gz); run tools/setup.sh' % (data, f))
    x = torch_eval.read_idx(os.path.join(data, prefix + '-images-idx3-ubyte'))
    y = torch_eval.read_idx(os.path.join(data, prefix + '-labels-idx1-ubyte'))
    if n > 0:
        x, y = x[:n], y[:n]
    return x.float().div(255).unsqueeze(1), y.long()


def save_checkpoint(model, path):
    """A plain dict of tensors, as spat-cpp writes and reads them."""
    sd = {k: v.detach().clone() for k, v in model.state_dict().items()}
    tmp = path + '.tmp'
    torch.save(sd, tmp)
    os.replace(tmp, path)


def train(a):
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    model = make_model(a)
    if a.init:
        model.load_state_dict(torch.load(a.init), strict=True)
    opt = torch.optim.SGD(model.parameters(), lr=a.lr, momentum=a.momentum,
                          weight_decay=a.weight_decay)
    model.to(a.device)
    x, y = load_mnist(a.data, 'train', a.train_subset)
    x, y = x.to(a.device), y.to(a.device)
    gen = torch.Generator().manual_seed(a.seed ^ 0x5eed)
    order = torch.Generator().manual_seed(a.seed + 1)
    os.makedirs(a.out_dir, exist_ok=True)
    t0 = time.time()
    for epoch in range(a.epochs):
        perm = torch.randperm(len(y), generator=order)
        total, seen = 0.0, 0
        for i in range(0, len(y), a.batch):
            idx = perm[i:i + a.batch].to(a.device)
            loss = step_loss(model, x[idx], y[idx], a, gen)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
            seen += len(idx)
        print('epoch %d: loss %.4f (%.0f s)' % (epoch + 1, total / seen, time.time() - t0),
              file=sys.stderr)
        save_checkpoint(model.cpu(), os.path.join(a.out_dir, 'checkpoint.pt'))
        model.to(a.device)
    print(json.dumps({'out_dir': a.out_dir, 'method': a.method, 'seed': a.seed,
                      'epochs': a.epochs, 'head_init': a.head_init,
                      'renormalize': a.renormalize, 'detach_gains': a.detach_gains,
                      'clamp_start': a.clamp_start, 'init': a.init, 'device': a.device,
                      'seconds': round(time.time() - t0, 1)}))


def seeded_init(model, seed):
    """Deterministic weights both sides can draw: for each floating entry of
    the state dict but the NCE scale, in sorted key order, N(0, 1) from a
    generator seeded with `seed`, times sqrt(1 / fan_in) for weights and 0.05
    for biases. (spat/parity_test.cc draws the same; the fixture then needs
    no copy of the initial weights.)"""
    gen = torch.Generator().manual_seed(seed)
    sd = model.state_dict()
    with torch.no_grad():
        for k in sorted(sd):
            v = sd[k]
            if k.endswith('.s'):
                continue
            scale = (1.0 / v[0].numel()) ** 0.5 if v.dim() > 1 else 0.05
            v.copy_(torch.randn(v.shape, generator=gen) * scale)


def fixture(a):
    """Steps from seeded weights on fixed batches, with the intermediates of
    the first step; see spat/parity_test.cc for what is stored."""
    model = make_model(a)
    seeded_init(model, a.init_seed)
    x, y = load_mnist(a.data, 'train', a.batch * a.num_batches)
    opt = torch.optim.SGD(model.parameters(), lr=a.lr, momentum=a.momentum,
                          weight_decay=a.weight_decay)
    # The C++ test seeds its generators the same way: the default one (dropout)
    # with dropout_seed, the attack's with attack_seed.
    torch.manual_seed(a.dropout_seed)
    gen = torch.Generator().manual_seed(a.attack_seed)
    out = {}
    for b in range(a.num_batches):
        xb, yb = x[b * a.batch:(b + 1) * a.batch], y[b * a.batch:(b + 1) * a.batch]
        trace = {}
        loss = step_loss(model, xb, yb, a, gen, trace)
        opt.zero_grad()
        loss.backward()
        out['batch%d.adv' % b] = trace.pop('adv')
        if b == 0:
            out.update(trace)
            out['loss.total'] = loss.detach().double()
            for k, p in model.named_parameters():
                out['grad.' + k] = p.grad.detach().clone()
        opt.step()
    for k, v in model.state_dict().items():
        out['final.' + k] = v.detach().clone()
    out['x'] = x
    out['y'] = y
    for k in ('eps', 'step', 'lr', 'momentum', 'weight_decay', 's', 'alpha', 'beta', 'lam',
              'dropout'):
        out['config.' + k] = torch.tensor(float(getattr(a, k)), dtype=torch.float64)
    for k in ('steps', 'batch', 'num_batches', 'init_seed', 'dropout_seed', 'attack_seed'):
        out['config.' + k] = torch.tensor(int(getattr(a, k)), dtype=torch.int64)
    tmp = a.out + '.tmp'
    torch.save(out, tmp)
    os.replace(tmp, a.out)
    print(json.dumps({'fixture': a.out, 'method': a.method, 'loss': float(out['loss.total']),
                      'torch': torch.__version__}))


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('command', choices=['train', 'fixture'])
    p.add_argument('--method', choices=['spat', 'trades'], default='spat')
    p.add_argument('--data', default=torch_eval.DEFAULT_MNIST)
    p.add_argument('--seed', type=int, default=1)
    p.add_argument('--epochs', type=int, default=2)
    p.add_argument('--train_subset', type=int, default=20000)
    p.add_argument('--batch', type=int, default=128)
    p.add_argument('--eps', type=float, default=0.2)
    p.add_argument('--step', type=float, default=0.05)
    p.add_argument('--steps', type=int, default=5)
    p.add_argument('--lr', type=float, default=0.01)
    p.add_argument('--momentum', type=float, default=0.9)
    p.add_argument('--weight_decay', type=float, default=0.0)
    p.add_argument('--s', type=float, default=5.0)
    p.add_argument('--alpha', type=float, default=0.2)
    p.add_argument('--beta', type=float, default=0.2)
    p.add_argument('--lam', type=float, default=6.0)
    p.add_argument('--dropout', type=float, default=0.5)
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--init', default='', help='train: start from this state dict')
    p.add_argument('--device', default='cpu', help='train: cpu or cuda')
    # Choices on which implementations of the equations differ (issue 16):
    p.add_argument('--head_init', choices=['linear', 'randn'], default='linear',
                   help="NCE prototypes: nn.Linear's init or N(0, 0.01^2)")
    p.add_argument('--renormalize', action='store_true',
                   help="the authors' unit-norm prototype rows (no gradient through the norm)")
    p.add_argument('--detach_gains', action='store_true', help='no gradient through g')
    p.add_argument('--clamp_start', action='store_true', help='clamp x + noise to [0, 1]')
    p.add_argument('--out_dir', default='runs/reference')
    p.add_argument('--out', default='', help='fixture: output file')
    p.add_argument('--num_batches', type=int, default=2)
    p.add_argument('--init_seed', type=int, default=10)
    p.add_argument('--dropout_seed', type=int, default=11)
    p.add_argument('--attack_seed', type=int, default=12)
    a = p.parse_args()
    if min(a.epochs, a.batch, a.steps, a.num_batches) < 1 or a.eps <= 0 or a.step <= 0:
        p.error('--epochs, --batch, --steps, --num_batches must be >= 1; --eps, --step > 0')
    if a.command == 'fixture' and not a.out:
        p.error('fixture needs --out')
    train(a) if a.command == 'train' else fixture(a)


if __name__ == '__main__':
    main()
