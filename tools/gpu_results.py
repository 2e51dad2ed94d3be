#!/usr/bin/env python3
"""The MNIST paper-protocol runs that tools/gpu_check.sh trains on a GPU.

Run folders are the paper preset's Table 4-5 cells (cells/<method>/: the run
`train --config=spat/presets/mnist_paper.textproto --method=<method>` trains).
gpu_check.sh brings them back as runs.tar.gz; `import` puts them into
results/mnist_paper/ (tracked, so the next GPU call continues them), and
`summary` prints where each method stands beside the paper's Table 4.

  tools/gpu_results.py import FILES_AT/runs.tar.gz   # then commit results/
  tools/gpu_results.py summary
  # used by gpu_check.sh:
  tools/gpu_results.py progress RUN_DIR          # "<epochs done> <planned>"
  tools/gpu_results.py curve RUN_DIR             # one JSON line, per epoch
  tools/gpu_results.py table4_row RUN_DIR METHOD # one JSON line, ours and the paper's

Standard library only. Exit codes: 0 done, 1 bad data (a malformed or
unexpected archive, a run that would go backwards), 2 bad usage.
"""

import argparse
import functools
import json
import os
import re
import shutil
import sys
import tarfile
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RESULTS = os.path.join(ROOT, "results", "mnist_paper")
PAPER_TABLES = os.path.join(ROOT, "benchmarks", "data", "paper_tables.textproto")
METHODS = ["spat", "trades", "madry", "mart", "alp"]  # the order gpu_check.sh trains them
PAPER_ROWS = {"madry": "Madry", "alp": "ALP", "trades": "TRADES", "mart": "MART", "spat": "SPAT"}
FILES = {"config.textproto", "metrics.json", "checkpoint.pt", "train_state.pt", "table4_eval.json"}
COLUMNS = [("Clean", "clean"), ("FGSM", "fgsm"), ("PGD-20", "pgd20"), ("C&W", "cw")]


class BadData(Exception):
    pass


def read_metrics(run_dir):
    path = os.path.join(run_dir, "metrics.json")
    if not os.path.exists(path):
        return None
    try:
        with open(path) as f:
            m = json.load(f)
        return m, len(m.get("epochs", [])), int(m["config"]["optimizer"]["epochs"])
    except (ValueError, KeyError, TypeError) as e:
        raise BadData(f"{path}: not a run's metrics.json ({e})")


@functools.lru_cache(maxsize=None)
def paper_table4():
    """{row: {column: value}} of the paper's Table 4."""
    with open(PAPER_TABLES) as f:
        text = f.read()
    start = text.index('id: "table4"')
    end = text.find("\ntables {", start)
    block = text[start:end if end >= 0 else len(text)]
    rows = {}
    for r, c, v in re.findall(r'cells \{ row: "([^"]+)" column: "([^"]+)" value: ([0-9.]+) \}', block):
        rows.setdefault(r, {})[c] = float(v)
    return rows


def table4_row(run_dir, method):
    with open(os.path.join(run_dir, "table4_eval.json")) as f:
        ours = json.load(f)
    row = {c: ours.get(k) for c, k in COLUMNS}
    row["AA"] = ours.get("aa")
    return {"step": "table4_row", "method": method, "n": ours.get("settings", {}).get("n"),
            "ours": row, "paper": paper_table4().get(PAPER_ROWS[method], {})}


def curve(run_dir):
    metrics = read_metrics(run_dir)
    if metrics is None:
        raise BadData(f"{run_dir}: no metrics.json")
    m, done, planned = metrics
    return {"step": "paper_protocol", "method": m["config"]["method"]["name"],
            "device": m.get("device", ""), "epochs_done": done, "epochs_planned": planned,
            # An epoch that eval_every skipped has no clean / pgd.
            "per_epoch": [{"epoch": e["epoch"], "seconds": round(e["seconds"], 1),
                           **({"clean": round(e["clean"], 2), "pgd20": round(e["pgd"], 2)}
                              if "clean" in e else {})}
                          for e in m.get("epochs", [])]}


def check_members(tar):
    """The archive's files as {method: [names]}; anything unexpected is BadData."""
    found = {}
    for member in tar.getmembers():
        name = member.name.removeprefix("./").rstrip("/")
        if member.isdir() and (name in ("", ".", "cells") or re.fullmatch(r"cells/[a-z_]+", name)):
            continue
        parts = name.split("/")
        if not member.isfile() or len(parts) != 3 or parts[0] != "cells" or \
                parts[1] not in METHODS or parts[2] not in FILES:
            raise BadData(f"unexpected entry '{member.name}' (expected cells/<method>/<file>, "
                          f"method one of {', '.join(METHODS)}, file one of {', '.join(sorted(FILES))})")
        found.setdefault(parts[1], []).append(member)
    if not found:
        raise BadData("no run folders (cells/<method>/) in it")
    return found


def do_import(archive, results, force, protocol):
    if not os.path.isfile(archive):
        print(f"gpu_results: import {archive}: no such file", file=sys.stderr)
        return 2
    try:
        with tarfile.open(archive, "r:gz") as tar:
            found = check_members(tar)
            with tempfile.TemporaryDirectory() as tmp:
                for method, members in found.items():
                    for member in members:
                        src = tar.extractfile(member)
                        dst = os.path.join(tmp, method, os.path.basename(member.name))
                        os.makedirs(os.path.dirname(dst), exist_ok=True)
                        with open(dst, "wb") as out:
                            shutil.copyfileobj(src, out)
                status = 0
                wanted = protocol_fields(protocol) if protocol else None
                for method in METHODS:
                    if method not in found:
                        continue
                    incoming = os.path.join(tmp, method)
                    mine = os.path.join(results, "cells", method)
                    new = read_metrics(incoming)
                    if new is None or not os.path.exists(os.path.join(incoming, "config.textproto")):
                        raise BadData(f"cells/{method}/ has no metrics.json or config.textproto")
                    if wanted:
                        why = protocol_mismatch(new[0].get("config", {}), wanted)
                        if why:
                            raise BadData(f"cells/{method}/ is not the run of {os.path.relpath(protocol, ROOT)}"
                                          f" ({why}): a --quick run? Nothing imported")
                    old = read_metrics(mine) if os.path.isdir(mine) else None
                    if old is not None and not force:
                        with open(os.path.join(mine, "config.textproto")) as a, \
                                open(os.path.join(incoming, "config.textproto")) as b:
                            same = _identity(a.read()) == _identity(b.read())
                        if not same:
                            print(f"gpu_results: {method}: the archive holds another run than "
                                  f"{mine} (config.textproto differs); kept ours (--force replaces it)",
                                  file=sys.stderr)
                            status = 1
                            continue
                        if new[1] < old[1]:
                            print(f"gpu_results: {method}: the archive has {new[1]} epochs, {mine} "
                                  f"has {old[1]}; kept ours (--force replaces it)", file=sys.stderr)
                            status = 1
                            continue
                    if os.path.isdir(mine):
                        shutil.rmtree(mine)
                    os.makedirs(os.path.dirname(mine), exist_ok=True)
                    shutil.copytree(incoming, mine)
                    shown = os.path.relpath(mine, ROOT) if mine.startswith(ROOT + os.sep) else mine
                    print(f"gpu_results: {method}: {new[1]}/{new[2]} epochs -> {shown}")
                return status
    except (tarfile.TarError, EOFError, OSError) as e:
        print(f"gpu_results: import {archive}: {e}", file=sys.stderr)
        return 1


PROTOCOL = os.path.join(ROOT, "spat", "presets", "mnist_paper.textproto")


def protocol_fields(path):
    """{(block, field): value} of a preset file's scalars (method.name aside)."""
    with open(path) as f:
        text = re.sub(r"#[^\n]*", "", f.read())
    fields = {}
    for block, body in re.findall(r"(\w+)\s*\{([^}]*)\}", text):
        for name, value in re.findall(r'(\w+):\s*("[^"]*"|[-+0-9.eE]+)', body):
            if (block, name) != ("method", "name"):
                fields[(block, name)] = value.strip('"')
    top = re.sub(r"\w+\s*\{[^}]*\}", "", text)
    for name, value in re.findall(r'(\w+):\s*("[^"]*"|[-+0-9.eE]+)', top):
        fields[(None, name)] = value.strip('"')
    return fields


def protocol_mismatch(metrics_config, fields):
    """The first field where a run's config differs from the preset's, or None."""
    for (block, name), want in sorted(fields.items(), key=str):
        got = (metrics_config.get(block, {}) if block else metrics_config).get(name)
        try:
            same = got is not None and abs(float(got) - float(want)) <= 1e-9 * max(1.0, abs(float(want)))
        except (TypeError, ValueError):
            same = str(got) == want
        if not same:
            return f"{block + '.' if block else ''}{name} is {got}, the protocol's {want}"
    for block, name in (("dataset", "train_subset"), ("dataset", "test_subset")):
        if str(metrics_config.get(block, {}).get(name, "0")) not in ("0", "None"):
            return f"{block}.{name} is {metrics_config[block][name]}, the protocol's all"
    return None


def _identity(config_text):
    """A run's config.textproto without what never decides what is computed."""
    drop = re.compile(r"^\s*(out_dir|threads|device|cuda_graphs|data_dir|eval_every):")
    return [line.strip() for line in config_text.splitlines() if not drop.match(line)]


def summary(results):
    cells = os.path.join(results, "cells")
    lines = ["| method | epochs | last clean / PGD-20 | " +
             " | ".join(c for c, _ in COLUMNS) + " | AA |",
             "| --- | --- | --- | " + " | ".join("---" for _ in COLUMNS) + " | --- |"]
    paper = paper_table4()
    images = set()
    for method in METHODS:
        d = os.path.join(cells, method)
        m = read_metrics(d) if os.path.isdir(d) else None
        if m is None:
            lines.append(f"| {PAPER_ROWS[method]} | not started | | " +
                         " | ".join(f"({paper[PAPER_ROWS[method]][c]:.2f})" for c, _ in COLUMNS) + " | |")
            continue
        evaluated = [e for e in m[0].get("epochs", []) if "clean" in e]
        last = f"{evaluated[-1]['clean']:.2f} / {evaluated[-1]['pgd']:.2f}" if evaluated else "—"
        if os.path.exists(os.path.join(d, "table4_eval.json")):
            row = table4_row(d, method)
            images.add(row["n"])
            cols = [f"**{row['ours'][c]:.2f}** ({row['paper'][c]:.2f})" for c, _ in COLUMNS]
            aa = f"**{row['ours']['AA']:.2f}**" if row["ours"]["AA"] is not None else ""
        else:
            cols = [f"({paper[PAPER_ROWS[method]][c]:.2f})" for c, _ in COLUMNS]
            aa = ""
        lines.append(f"| {PAPER_ROWS[method]} | {m[1]}/{m[2]} | {last} | " + " | ".join(cols) + f" | {aa} |")
    print("\n".join(lines))
    if not images:
        on = "the 10,000 test images (gpu_check.sh's evaluation)"
    elif len(images) == 1 and None not in images:
        on = f"the first {int(images.pop()):,} test images"
    else:
        on = "the test images each run's table4_eval.json names (settings.n)"
    print(f"\nOurs in bold (Table 4's attacks at eps 0.3 on {on}, once a run has all its "
          "epochs), the paper's in parentheses; AutoAttack is not in the paper's Table 4. "
          "'last clean / PGD-20': the run's own per-epoch check.")
    return 0


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    i = sub.add_parser("import", help="put runs.tar.gz's run folders into results/mnist_paper/")
    i.add_argument("archive")
    i.add_argument("--results", default=RESULTS)
    i.add_argument("--force", action="store_true", help="replace a different or longer run")
    i.add_argument("--protocol", default=PROTOCOL,
                   help="the preset every run must follow ('none': no check)")
    s = sub.add_parser("summary", help="where each method stands, beside the paper's Table 4")
    s.add_argument("--results", default=RESULTS)
    for name in ("progress", "curve"):
        sub.add_parser(name).add_argument("run_dir")
    t = sub.add_parser("table4_row")
    t.add_argument("run_dir")
    t.add_argument("method", choices=METHODS)
    a = p.parse_args(argv)
    try:
        if a.cmd == "import":
            rc = do_import(a.archive, a.results, a.force,
                           None if a.protocol == "none" else a.protocol)
            if rc == 0:
                summary(a.results)
            return rc
        if a.cmd == "summary":
            return summary(a.results)
        if a.cmd == "progress":
            m = read_metrics(a.run_dir)
            if m is not None:
                print(m[1], m[2])
            return 0
        if a.cmd == "curve":
            print(json.dumps(curve(a.run_dir)))
            return 0
        print(json.dumps(table4_row(a.run_dir, a.method)))
        return 0
    except BadData as e:
        print(f"gpu_results: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
