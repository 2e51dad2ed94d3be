#!/usr/bin/python3
"""Writes models/testdata: reference PyTorch definitions of the paper's models,
their state-dict key lists, and small checkpoints + input/output pairs saved by
torch.save, which the C++ tests load and must reproduce.

Run once with Debian's python3-torch (apt-get install python3-torch):
    /usr/bin/python3 tools/make_reference_checkpoints.py models/testdata
The definitions follow the public TRADES/MART/SPAT repositories (SmallCNN,
WideResNet) and the common CIFAR ResNet (3x3 stem, no max-pool).
"""
import collections
import os
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F


class SmallCNN(nn.Module):
    def __init__(self, drop=0.5):
        super().__init__()
        self.feature_extractor = nn.Sequential(collections.OrderedDict([
            ('conv1', nn.Conv2d(1, 32, 3)), ('relu1', nn.ReLU()),
            ('conv2', nn.Conv2d(32, 32, 3)), ('relu2', nn.ReLU()),
            ('maxpool1', nn.MaxPool2d(2, 2)),
            ('conv3', nn.Conv2d(32, 64, 3)), ('relu3', nn.ReLU()),
            ('conv4', nn.Conv2d(64, 64, 3)), ('relu4', nn.ReLU()),
            ('maxpool2', nn.MaxPool2d(2, 2)),
        ]))
        self.classifier = nn.Sequential(collections.OrderedDict([
            ('fc1', nn.Linear(64 * 4 * 4, 200)), ('relu1', nn.ReLU()),
            ('drop', nn.Dropout(drop)),
            ('fc2', nn.Linear(200, 200)), ('relu2', nn.ReLU()),
            ('fc3', nn.Linear(200, 10)),
        ]))

    def features(self, x):
        h = self.feature_extractor(x).view(x.size(0), -1)
        c = self.classifier
        return c.relu2(c.fc2(c.drop(c.relu1(c.fc1(h)))))

    def forward(self, x):
        return self.classifier(self.feature_extractor(x).view(x.size(0), -1))


class LeNet5(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5, padding=2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(400, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def features(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = F.relu(self.fc1(x.view(x.size(0), -1)))
        return F.relu(self.fc2(x))

    def forward(self, x):
        return self.fc3(self.features(x))


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, in_planes, planes, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut = nn.Sequential()
        if stride != 1 or in_planes != planes:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_planes, planes, 1, stride, bias=False),
                nn.BatchNorm2d(planes))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class Bottleneck(nn.Module):
    expansion = 4

    def __init__(self, in_planes, planes, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, 4 * planes, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(4 * planes)
        self.shortcut = nn.Sequential()
        if stride != 1 or in_planes != 4 * planes:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_planes, 4 * planes, 1, stride, bias=False),
                nn.BatchNorm2d(4 * planes))

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = F.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return F.relu(out + self.shortcut(x))


class ResNet(nn.Module):
    def __init__(self, block, num_blocks, width=64, num_classes=10):
        super().__init__()
        self.in_planes = width
        self.conv1 = nn.Conv2d(3, width, 3, 1, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.layer1 = self._make_layer(block, width, num_blocks[0], 1)
        self.layer2 = self._make_layer(block, 2 * width, num_blocks[1], 2)
        self.layer3 = self._make_layer(block, 4 * width, num_blocks[2], 2)
        self.layer4 = self._make_layer(block, 8 * width, num_blocks[3], 2)
        self.linear = nn.Linear(8 * width * block.expansion, num_classes)

    def _make_layer(self, block, planes, n, stride):
        layers = []
        for s in [stride] + [1] * (n - 1):
            layers.append(block(self.in_planes, planes, s))
            self.in_planes = planes * block.expansion
        return nn.Sequential(*layers)

    def features(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer4(self.layer3(self.layer2(self.layer1(out))))
        return F.avg_pool2d(out, 4).view(out.size(0), -1)

    def forward(self, x):
        return self.linear(self.features(x))


class WideBlock(nn.Module):
    def __init__(self, in_planes, out_planes, stride, drop=0.0):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(in_planes)
        self.relu1 = nn.ReLU(inplace=True)
        self.conv1 = nn.Conv2d(in_planes, out_planes, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(out_planes)
        self.relu2 = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(out_planes, out_planes, 3, 1, 1, bias=False)
        self.droprate = drop
        self.equalInOut = in_planes == out_planes
        self.convShortcut = (not self.equalInOut) and nn.Conv2d(
            in_planes, out_planes, 1, stride, 0, bias=False) or None

    def forward(self, x):
        if not self.equalInOut:
            x = self.relu1(self.bn1(x))
        else:
            out = self.relu1(self.bn1(x))
        out = self.relu2(self.bn2(self.conv1(out if self.equalInOut else x)))
        out = self.conv2(out)
        return torch.add(x if self.equalInOut else self.convShortcut(x), out)


class NetworkBlock(nn.Module):
    def __init__(self, n, in_planes, out_planes, stride):
        super().__init__()
        self.layer = nn.Sequential(*[
            WideBlock(i == 0 and in_planes or out_planes, out_planes,
                      i == 0 and stride or 1) for i in range(n)])

    def forward(self, x):
        return self.layer(x)


class WideResNet(nn.Module):
    def __init__(self, depth=34, widen_factor=10, num_classes=10):
        super().__init__()
        ch = [16, 16 * widen_factor, 32 * widen_factor, 64 * widen_factor]
        n = (depth - 4) // 6
        self.conv1 = nn.Conv2d(3, ch[0], 3, 1, 1, bias=False)
        self.block1 = NetworkBlock(n, ch[0], ch[1], 1)
        self.sub_block1 = NetworkBlock(n, ch[0], ch[1], 1)
        self.block2 = NetworkBlock(n, ch[1], ch[2], 2)
        self.block3 = NetworkBlock(n, ch[2], ch[3], 2)
        self.bn1 = nn.BatchNorm2d(ch[3])
        self.relu = nn.ReLU(inplace=True)
        self.fc = nn.Linear(ch[3], num_classes)
        self.nChannels = ch[3]

    def features(self, x):
        out = self.block3(self.block2(self.block1(self.conv1(x))))
        out = self.relu(self.bn1(out))
        return F.avg_pool2d(out, 8).view(-1, self.nChannels)

    def forward(self, x):
        return self.fc(self.features(x))


def randomize(model, gen):
    """Non-trivial weights and BatchNorm statistics, so eval-mode outputs
    depend on every parameter and buffer."""
    with torch.no_grad():
        for name, t in model.state_dict().items():
            if name.endswith('num_batches_tracked'):
                t.fill_(int(torch.randint(1, 1000, (1,), generator=gen)))
            elif name.endswith('running_var'):
                t.copy_(torch.rand(t.shape, generator=gen) + 0.5)
            elif name.endswith('running_mean'):
                t.copy_(torch.randn(t.shape, generator=gen) * 0.1)
            elif t.dim() >= 2:
                fan_in = t[0].numel()
                t.copy_(torch.randn(t.shape, generator=gen) * (2.0 / fan_in) ** 0.5)
            else:
                t.copy_(torch.randn(t.shape, generator=gen) * 0.1 + (1.0 if 'bn' in name and name.endswith('weight') else 0.0))


def save_pair(out, stem, model, x, wrap=None):
    model.eval()
    with torch.no_grad():
        z = model.features(x)
        logits = model(x)
    sd = model.state_dict()
    obj = sd if wrap is None else wrap(sd)
    torch.save(obj, os.path.join(out, stem + '.pt'))
    torch.save({'x': x, 'features': z, 'logits': logits},
               os.path.join(out, stem + '_io.pt'))


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else 'models/testdata'
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(1234)

    full = collections.OrderedDict([
        ('small_cnn', SmallCNN()), ('lenet5', LeNet5()),
        ('resnet18', ResNet(BasicBlock, [2, 2, 2, 2])),
        ('resnet34', ResNet(BasicBlock, [3, 4, 6, 3])),
        ('resnet50', ResNet(Bottleneck, [3, 4, 6, 3])),
        ('resnet101', ResNet(Bottleneck, [3, 4, 23, 3])),
        ('wrn34_10', WideResNet(34, 10)),
    ])
    with open(os.path.join(out, 'reference_keys.txt'), 'w') as f:
        f.write('# model\tkey\tshape (written by tools/make_reference_checkpoints.py)\n')
        for name, m in full.items():
            for k, t in m.state_dict().items():
                f.write('%s\t%s\t%s\n' % (name, k, ','.join(str(d) for d in t.shape)))

    mnist_x = torch.rand(4, 1, 28, 28, generator=gen)
    cifar_x = torch.rand(3, 3, 32, 32, generator=gen)

    m = SmallCNN(); randomize(m, gen)
    save_pair(out, 'small_cnn', m, mnist_x)  # plain OrderedDict state_dict
    m = LeNet5(); randomize(m, gen)
    save_pair(out, 'lenet5_wrapped', m, mnist_x,
              wrap=lambda sd: {'state_dict': sd, 'epoch': 3, 'best_acc': 0.25})
    m = ResNet(BasicBlock, [2, 2, 2, 2], width=8); randomize(m, gen)
    save_pair(out, 'resnet18_w8', m, cifar_x)
    m = ResNet(Bottleneck, [3, 4, 6, 3], width=4); randomize(m, gen)
    save_pair(out, 'resnet50_w4', m, cifar_x)
    m = WideResNet(10, 2); randomize(m, gen)
    # DataParallel-style 'module.' prefix, sub_block1 included.
    save_pair(out, 'wrn10_2_dataparallel', m, cifar_x,
              wrap=lambda sd: collections.OrderedDict(
                  ('module.' + k, v) for k, v in sd.items()))


if __name__ == '__main__':
    main()
