"""Checks every checkpoint listed in DIR/manifest.tsv with torch.load."""
import collections
import math
import sys

import torch


def main(d):
    expected = collections.defaultdict(list)
    with open(d + '/manifest.tsv') as f:
        for line in f:
            file, key, shape, total, dtype = line.rstrip('\n').split('\t')
            shape = tuple(int(s) for s in shape.split(',')) if shape else ()
            expected[file].append((key, shape, float(total), dtype))
    assert expected, 'empty manifest'
    dtypes = {'Float': torch.float32, 'Long': torch.int64}
    for file, entries in expected.items():
        sd = torch.load(d + '/' + file)
        assert isinstance(sd, dict), (file, type(sd))
        assert list(sd.keys()) == [e[0] for e in entries], file
        for key, shape, total, dtype in entries:
            t = sd[key]
            assert isinstance(t, torch.Tensor), (file, key)
            assert tuple(t.shape) == shape, (file, key, t.shape, shape)
            assert t.dtype == dtypes[dtype], (file, key, t.dtype, dtype)
            got = t.double().sum().item()
            assert math.isclose(got, total, rel_tol=1e-5, abs_tol=1e-3), (file, key, got, total)
        print('ok', file, len(entries), 'tensors')
    print('%d passed, 0 failed' % len(expected))


if __name__ == '__main__':
    main(sys.argv[1])
