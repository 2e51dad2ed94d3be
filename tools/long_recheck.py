#!/usr/bin/env python3
"""Retrains one cell of the stored long-preset results and says how far it lands.

Each cell folder under results/long/cells/ keeps the config it was trained
with (config.textproto) and its final attacks (evals.json). This script trains
that config again in a temporary folder, runs the same attacks on the new model
with the same settings, and prints, per attack, the stored runs' mean and
standard deviation over the cell's seeds (CELL, CELL_seed2, ...) beside the new
number and its distance from the mean in those standard deviations.

  tools/long_recheck.py spat_s5_a0.2_b0.2          # base seed of SPAT's defaults
  tools/long_recheck.py madry_half --threads=2

It needs the `train` and `evaluate` binaries (`bazel build //spat:train
//attacks:evaluate`, or a CMake build folder: --bin=build-cmake). Measured on
one core of a 2-core AMD EPYC beside another run: a cell's 4 epochs take
about 12 minutes and Table 1's attacks (clean, PGD-20 on 10,000 images)
about 3 more; Tables 4-5's add about 5 (FGSM, C&W, the transfer attacks),
and the base seed's AutoAttack on 1,000 images about 55.

Standard library only. Exit codes: 0 done, 1 a run or attack failed or the
stored cell is incomplete, 2 bad usage.
"""

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class Failure(Exception):
    pass


def read_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        raise Failure(f"{path}: {e}")


def seed_siblings(cells_dir, cell):
    """The cell's runs over the seeds: base name first, then _seed<k>."""
    base = re.sub(r"_seed\d+$", "", cell)
    names = [base] + sorted(
        (n for n in os.listdir(cells_dir) if re.fullmatch(re.escape(base) + r"_seed\d+", n)),
        key=lambda n: int(n.rsplit("_seed", 1)[1]))
    return [n for n in names if os.path.exists(os.path.join(cells_dir, n, "evals.json"))]


def config_field(text, name):
    m = re.search(r"^\s*" + name + r":\s*\"?([^\"\n]+)\"?\s*$", text, re.M)
    return m.group(1) if m else None


def model_name(text):
    m = re.search(r"^model\s*\{[^}]*?name:\s*\"([^\"]+)\"", text, re.M | re.S)
    if not m:
        raise Failure("config.textproto names no model")
    return m.group(1)


def dataset_name(text):
    m = re.search(r"^dataset\s*\{[^}]*?name:\s*\"([^\"]+)\"", text, re.M | re.S)
    return m.group(1) if m else "mnist"


def find_binary(bin_dir, rel):
    for path in (os.path.join(bin_dir, rel), os.path.join(bin_dir, os.path.basename(rel))):
        if os.access(path, os.X_OK):
            return path
    raise Failure(f"no {rel} under {bin_dir}: build it first (bazel build //spat:train "
                  f"//attacks:evaluate), or pass --bin=<CMake build folder>")


def run(cmd, log):
    log.write("$ " + " ".join(cmd) + "\n")
    log.flush()
    rc = subprocess.call(cmd, stdout=log, stderr=subprocess.STDOUT)
    if rc != 0:
        raise Failure(f"{os.path.basename(cmd[0])} exited with {rc} (log: {log.name})")


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("cell", help="a folder name under RESULTS/cells")
    p.add_argument("--results", default=os.path.join(ROOT, "results", "long"))
    p.add_argument("--bin", default=os.path.join(ROOT, "bazel-bin"),
                   help="where spat/train and attacks/evaluate are (bazel-bin or a CMake build)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--work", default="", help="keep the retrained run here (default: a temp folder)")
    a = p.parse_args(argv)
    if a.threads < 1:
        print("error: --threads must be >= 1", file=sys.stderr)
        return 2
    cells = os.path.join(a.results, "cells")
    cell_dir = os.path.join(cells, a.cell)
    if not os.path.isdir(cell_dir):
        print(f"error: no cell '{a.cell}' in {cells}", file=sys.stderr)
        return 2
    try:
        train = find_binary(a.bin, "spat/train")
        evaluate = find_binary(a.bin, "attacks/evaluate")
        with open(os.path.join(cell_dir, "config.textproto")) as f:
            config = f.read()
        stored = read_json(os.path.join(cell_dir, "evals.json")).get("evals", [])
        if not stored:
            raise Failure(f"{cell_dir}/evals.json holds no attacks: the cell is not finished")
        work = a.work or tempfile.mkdtemp(prefix="long_recheck_")
        os.makedirs(work, exist_ok=True)
        run_dir = os.path.join(work, "run")
        os.makedirs(run_dir, exist_ok=True)
        # The same run elsewhere: only where it writes and its threads change
        # (neither is part of a run's identity).
        config = re.sub(r'^out_dir:.*$', f'out_dir: "{run_dir}"', config, flags=re.M)
        config = re.sub(r'^threads:.*$', f"threads: {a.threads}", config, flags=re.M)
        cfg_path = os.path.join(work, "config.textproto")
        with open(cfg_path, "w") as f:
            f.write(config)
        log = open(os.path.join(work, "log.txt"), "a")
        print(f"retraining {a.cell} in {run_dir} (log: {log.name})", file=sys.stderr)
        run([train, f"--config={cfg_path}", f"--threads={a.threads}"], log)
        # The stored attacks, grouped by their images and radius.
        groups = {}
        for e in stored:
            groups.setdefault((int(e["images"]), float(e["epsilon"]), e.get("source", "")),
                              []).append(e["attack"])
        fresh = {}
        for i, ((n, eps, source), attacks) in enumerate(sorted(groups.items())):
            out = os.path.join(work, f"evals_{i}.json")
            cmd = [evaluate, f"--checkpoint={run_dir}/checkpoint.pt",
                   f"--model={model_name(config)}", f"--dataset={dataset_name(config)}",
                   f"--epsilon={eps}", f"--n={n}", f"--attacks={','.join(attacks)}",
                   f"--threads={a.threads}", f"--out={out}"]
            if source:
                src = os.path.join(cells, source)
                src_model = model_name(open(os.path.join(src, "config.textproto")).read())
                cmd += [f"--source_checkpoint={src}/checkpoint.pt", f"--source_model={src_model}"]
            run(cmd, log)
            result = read_json(out)
            for attack in attacks:
                fresh[(attack, n)] = float(result[attack])
        siblings = seed_siblings(cells, a.cell)
        per_seed = []
        for s in siblings:
            per_seed.append({(e["attack"], int(e["images"])): float(e["accuracy"])
                             for e in read_json(os.path.join(cells, s, "evals.json"))["evals"]})
    except Failure as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except OSError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(f"{a.cell}: retrained beside the stored runs {', '.join(siblings)}")
    print(f"{'attack':<16} {'images':>6} {'stored mean':>11} {'sd':>6} {'n':>2} {'this run':>8} "
          f"{'stored':>7} {'z (sds)':>8}")
    for (attack, n), value in sorted(fresh.items()):
        values = [d[(attack, n)] for d in per_seed if (attack, n) in d]
        own = next((float(e["accuracy"]) for e in stored
                    if e["attack"] == attack and int(e["images"]) == n), float("nan"))
        mean = statistics.mean(values) if values else float("nan")
        sd = statistics.stdev(values) if len(values) > 1 else float("nan")
        z = f"{(value - mean) / sd:+8.2f}" if sd == sd and sd > 0 else f"{'—':>8}"
        print(f"{attack:<16} {n:>6} {mean:>11.2f} {sd:>6.2f} {len(values):>2} {value:>8.2f} "
              f"{own:>7.2f} {z}")
    print("z: (this run - the stored mean) / the stored runs' sd (—: the seeds agree exactly); "
          "'stored': this cell's own stored number (same seed).")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
