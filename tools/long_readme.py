#!/usr/bin/env python3
"""README's stored tables (the eps03 and long presets), from the stored results.

    tools/long_readme.py [--check] [--root=DIR]

Writes, for each preset, the block of README.md between its two markers
(`eps03-tables`, `long-preset-tables`) from results/<preset>/: for each of
its tables (eps03: Tables 4 and 5; long: Tables 1, 4 and 5) the table as its .md file has it
(ours, mean +- sd, the paper's in parentheses, the half-budget mean), every
claim's verdict with its p and n (and at half the budget), and the wall time
that runs.log records once every table is there. A table not there yet is
named as still to come (and the wall time waits for it).
--check writes nothing: exit 1 if README's block is not what the stored
results give (run without --check to update it). --root: the repository
(default: this script's). Exit codes: 0 done, 1 --check found a difference
or a stored file does not parse, 2 bad usage or no markers in README.md.
"""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import long_compute  # noqa: E402  (tools/long_compute.py: the wall time)

# preset -> (marker, tables, the command that runs it)
PRESETS = {
    "eps03": ("eps03-tables", ("table4", "table5"), "tools/long_preset.sh --preset=eps03"),
    "long": ("long-preset-tables", ("table1", "table4", "table5"), "tools/long_preset.sh"),
}


def markers(preset):
    marker = PRESETS[preset][0]
    return (f"<!-- {marker}: begin (tools/long_readme.py writes this block) -->",
            f"<!-- {marker}: end -->")


# The long preset's markers, as they were first named.
BEGIN, END = markers("long")


def _p(p):
    return "p < 0.0001" if p < 0.0001 else f"p = {p:.4f}"


def _claim_line(c):
    outcome = c.get("outcome", "")
    ns = sorted(set(re.findall(r"\(n=(\d+)\)", c.get("evidence", ""))), key=int)
    stats = []
    # A claim not judged for its cells (too few healthy runs, a row under the
    # floor) was not tested at this budget: no p.
    untested = outcome == "not judged" and not c.get("evidence", "").startswith(
        "not judged: the verdict changed")
    if "p" in c and not untested:
        stats.append(_p(c["p"]))
    if ns:
        stats.append("n = " + "/".join(ns))
    if c.get("half_budget_outcome"):
        half = c["half_budget_outcome"]
        if "half_budget_p" in c:
            half += ", " + _p(c["half_budget_p"])
        stats.append(f"at half the budget: {half}")
    line = f"- **{outcome}**" + (f" ({'; '.join(stats)})" if stats else "")
    line += f": {c.get('statement', '')}"
    if outcome == "not judged":
        line += f". {c.get('evidence', '')}"
    return line


def _table_block(md_path, result, preset):
    with open(md_path) as f:
        lines = f.read().splitlines()
    table = []
    for line in lines:
        if line.startswith("|"):
            table.append(line)
        elif table:
            break
    name = os.path.basename(md_path)
    counts = {}
    for c in result.get("claims", []):
        counts[c.get("outcome", "")] = counts.get(c.get("outcome", ""), 0) + 1
    summary = ", ".join(f"{n} {o}" for o, n in sorted(counts.items()))
    out = [f"**{result.get('title', name)}** ([{name}](results/{preset}/{name}): protocol, "
           f"notes and each claim's evidence)", ""]
    out += table
    out += ["", f"Claims ({summary or 'none'}):", ""]
    out += [_claim_line(c) for c in result.get("claims", [])]
    return out


def _names(tables):
    """"Tables 1 and 4-5" / "Tables 4 and 5" / "Table 4"."""
    nums = [t[len("table"):] for t in tables]
    if nums == ["1", "4", "5"]:
        return "Tables 1 and 4-5"
    return ("Tables " if len(nums) > 1 else "Table ") + " and ".join(nums)


def block(root, preset="long"):
    _, tables, command = PRESETS[preset]
    results = os.path.join(root, "results", preset)
    done, missing = [], []
    for t in tables:
        md, js = os.path.join(results, t + ".md"), os.path.join(results, t + ".json")
        if os.path.isfile(md) and os.path.isfile(js):
            done.append((md, js))
        else:
            missing.append("Table " + t[len("table"):])
    if not done:
        return [f"{_names(tables)} appear here when every cell in results/{preset}/ has "
                "finished;", f"until then `results/{preset}/cells/` holds the finished ones."]
    out = []
    for md, js in done:
        out += _table_block(md, long_compute.load_json(js), preset) + [""]
    if missing:
        # The wall time waits for the whole run: runs.log grows until then.
        out.append(f"{' and '.join(missing)} appear here when their cells have finished; "
                   f"until then `results/{preset}/cells/` holds the finished ones.")
        return out
    seconds, starts, ends, unknown, open_run, cpus = long_compute.wall_summary(results)
    wall = (f"Their runs took {seconds / 3600:.1f} h of wall time over {ends} start(s) of "
            f"`{command}` on {'; '.join(cpus) or 'an unrecorded CPU'} "
            f"(results/{preset}/runs.log")
    if unknown:
        wall += f"; {unknown} start(s) killed with no record of their time, not counted"
    out.append(wall + "; `tools/long_compute.py` splits it by table).")
    return out


def main(argv):
    check = False
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    for a in argv[1:]:
        if a == "--check":
            check = True
        elif a.startswith("--root="):
            root = a[len("--root="):]
        elif a in ("-h", "--help"):
            print(__doc__.strip())
            return 0
        else:
            print(f"error: unknown argument '{a}' (see --help)", file=sys.stderr)
            return 2
    readme = os.path.join(root, "README.md")
    try:
        with open(readme) as f:
            text = f.read()
    except OSError as e:
        print(f"error: {readme}: {e.strerror}", file=sys.stderr)
        return 2
    updated = text
    for preset in PRESETS:
        begin_marker, end_marker = markers(preset)
        begin, end = updated.find(begin_marker), updated.find(end_marker)
        if begin < 0 or end < begin:
            print(f"error: {readme} has no block between '{begin_marker}' and '{end_marker}'",
                  file=sys.stderr)
            return 2
        new = "\n".join([begin_marker] + block(root, preset) + [end_marker])
        if check and updated[begin:end + len(end_marker)] != new:
            print(f"{readme}: the {preset} preset's tables differ from results/{preset}/; run "
                  "tools/long_readme.py to update them", file=sys.stderr)
            return 1
        updated = updated[:begin] + new + updated[end + len(end_marker):]
    if not check and updated != text:
        tmp = readme + ".tmp"
        with open(tmp, "w") as f:
            f.write(updated)
        os.replace(tmp, readme)
        print(f"{readme}: stored tables updated")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
