#!/usr/bin/env python3
"""What the long preset's stored results took: compute per table, and wall time.

    tools/long_compute.py [DIR]        (default results/long)

Reads what the runs stored, nothing else: each cell's metrics.json (seconds of
every training epoch) and evals.json (seconds of every final attack), and
DIR/runs.log (wall seconds of every start of tools/long_preset.sh). Cell
seconds are one thread's, measured while the other lanes ran beside it; the
per-epoch check on 1,000 test images and loading are in the wall time only.

Exit codes: 0 printed, 1 a stored file does not parse, 2 bad usage or no such
folder.
"""
import collections
import json
import os
import re
import sys

_WALL = re.compile(r"^(\S+) (stopped|end \(exit \d+\)|killed): (?:about )?(\d+) s wall")
_UNKNOWN = re.compile(r"^\S+ killed: wall time unknown")
_START = re.compile(r"^\S+ start: (.*)$")


def _group(cell):
    if cell.startswith("source_"):
        return "transfer source"
    # Table 1's cells are named by their s, alpha and beta (spat_s5_a0.2_b0.2);
    # a Tables 4-5 cell is a method's name with its seed (spat_seed2).
    return "Table 1" if re.match(r"spat_s[0-9]", cell) else "Tables 4-5"


def load_json(path):
    """The parsed file; exit 1 naming it if it does not parse."""
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        raise SystemExit(f"error: {path}: {e}") from None


def cells_summary(root):
    """{group: Counter(runs, epochs, train_s, attacks_s, aa_s, half)}."""
    out = collections.OrderedDict(
        (g, collections.Counter()) for g in ("Table 1", "Tables 4-5", "transfer source"))
    cells_dir = os.path.join(root, "cells")
    for cell in sorted(os.listdir(cells_dir)) if os.path.isdir(cells_dir) else []:
        metrics = os.path.join(cells_dir, cell, "metrics.json")
        if not os.path.isfile(metrics):
            continue
        m = load_json(metrics)
        c = out[_group(cell)]
        c["runs"] += 1
        c["half"] += "_half" in cell
        c["epochs"] += len(m.get("epochs", []))
        c["train_s"] += sum(e.get("seconds", 0) for e in m.get("epochs", []))
        evals = os.path.join(cells_dir, cell, "evals.json")
        if os.path.isfile(evals):
            for e in load_json(evals).get("evals", []):
                c["aa_s" if e.get("attack") == "aa" else "attacks_s"] += e.get("seconds", 0)
    return out


def wall_summary(root):
    """(seconds logged, starts, ends logged, unknown, open, cpus)."""
    path = os.path.join(root, "runs.log")
    seconds = starts = ends = unknown = 0
    cpus = []
    last = ""
    if os.path.isfile(path):
        with open(path) as f:
            for line in f:
                line = line.strip()
                if not line:
                    continue
                last = line
                if m := _START.match(line):
                    starts += 1
                    cpu = m.group(1).split(", ")[-1]
                    if cpu not in cpus:
                        cpus.append(cpu)
                elif m := _WALL.match(line):
                    seconds += int(m.group(3))
                    ends += 1
                elif _UNKNOWN.match(line):
                    unknown += 1
                    ends += 1
    open_run = bool(_START.match(last))
    return seconds, starts, ends, unknown, open_run, cpus


def main(argv):
    if len(argv) > 2 or (len(argv) == 2 and argv[1].startswith("-")):
        print(__doc__.strip(), file=sys.stderr if argv[1] not in ("-h", "--help") else sys.stdout)
        return 0 if argv[1] in ("-h", "--help") else 2
    root = argv[1] if len(argv) == 2 else "results/long"
    if not os.path.isdir(root):
        print(f"error: {root}: no such folder (the long preset's results)", file=sys.stderr)
        return 2
    groups = cells_summary(root)
    hours = lambda s: f"{s / 3600:7.2f}"
    print(f"{root}: compute stored in the cells (one thread each, hours)")
    print(f"{'':16} {'runs':>5} {'half':>5} {'epochs':>7} {'training':>9} {'attacks':>8} "
          f"{'AutoAttack':>10} {'total':>8}")
    total = collections.Counter()
    for name, c in list(groups.items()) + [("all", None)]:
        if c is None:
            c = total
        else:
            total.update(c)
        s = c["train_s"] + c["attacks_s"] + c["aa_s"]
        print(f"{name:16} {c['runs']:5d} {c['half']:5d} {c['epochs']:7d} {hours(c['train_s']):>9} "
              f"{hours(c['attacks_s']):>8} {hours(c['aa_s']):>10} {hours(s):>8}")
    seconds, starts, ends, unknown, open_run, cpus = wall_summary(root)
    line = (f"wall clock (runs.log): {seconds / 3600:.2f} h over {ends} ended start(s) of "
            f"{starts}")
    if cpus:
        line += f", on {'; '.join(cpus)}"
    print(line)
    if unknown:
        print(f"  {unknown} killed start(s) with no record of their wall time: not counted")
    if open_run:
        print("  the last start has not ended in runs.log (running now, or killed: the next "
              "start logs it)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
