#!/bin/bash
# tools/long_readme.py on made-up stored tables: README's block is written
# from the tables' Markdown and JSON (verdicts with p and n, the half-budget
# verdict, not-judged reasons, the wall time), --check tells a stale block,
# and bad input exits 2.
set -u
script=$(dirname "$0")/long_readme.py
[[ -f $script ]] || script=$TEST_SRCDIR/spat/tools/long_readme.py
tmp=${TEST_TMPDIR:-$(mktemp -d)}/long_readme
rm -rf "$tmp"
mkdir -p "$tmp/results/long" "$tmp/results/eps03"
fail() { echo "FAIL: $*"; exit 1; }
cat >"$tmp/README.md" <<'MD'
# Project

<!-- eps03-tables: begin (tools/long_readme.py writes this block) -->
stale
<!-- eps03-tables: end -->

<!-- long-preset-tables: begin (tools/long_readme.py writes this block) -->
stale
<!-- long-preset-tables: end -->

After.
MD
run() { python3 "$script" --root="$tmp" "$@"; }
# No tables yet: the block says when they come.
run >/dev/null || fail "exit $? without tables"
grep -q "appear here when every cell" "$tmp/README.md" || fail "no placeholder: $(cat "$tmp/README.md")"
grep -q "Tables 4 and 5 appear here when every cell in results/eps03/" "$tmp/README.md" ||
  fail "no eps03 placeholder: $(cat "$tmp/README.md")"
run --check || fail "--check right after writing"

mktable() {  # mktable TABLE [PRESET]
  local t=$1 preset=${2:-long}
  cat >"$tmp/results/$preset/$t.md" <<MD
# $t title

Each cell: ...

|  | Clean | PGD-20 |
| --- | --- | --- |
| s=1 | **98.00 ± 0.10** (87.57) · 2 ep: 97.00 | **93.00 ± 0.20** (49.52) · 2 ep: 90.00 |

## The paper's claims, tested on our runs
MD
  cat >"$tmp/results/$preset/$t.json" <<JSON
{"title": "$t title", "claims": [
 {"statement": "s helps", "outcome": "holds", "p": 0.0012, "evidence": "s=1 93 (n=3) vs s=3 96 (n=3)",
  "half_budget_outcome": "holds", "half_budget_p": 0.00002},
 {"statement": "alpha helps", "outcome": "not judged", "evidence": "not judged: alpha=0.2 / PGD-20 87.00 -> 92.00 (+5.00)",
  "half_budget_outcome": "contradicted", "half_budget_p": 0.9}]}
JSON
}
# Table 1 alone: it is shown, the others are named as still to come, and no
# wall time yet.
mktable table1
printf '%s\n' "2026-01-01T00:00:00Z start: 2 lane(s), 2 core(s), CPU A" >"$tmp/results/long/runs.log"
run >/dev/null || fail "exit $? with table1 alone"
readme=$(cat "$tmp/README.md")
for want in "**table1 title** ([table1.md](results/long/table1.md)" \
  "Table 4 and Table 5 appear here when their cells have finished"; do
  [[ $readme == *"$want"* ]] || fail "README lacks '$want': $readme"
done
[[ $readme != *"wall time"* && $readme != *"every cell in results/long"* ]] ||
  fail "partial block: $readme"
run --check || fail "--check after writing table1 alone"

mktable table4
mktable table5
printf '%s\n' "2026-01-01T00:00:00Z start: 2 lane(s), 2 core(s), CPU A" \
  "2026-01-01T05:00:00Z end (exit 0): 18000 s wall" >"$tmp/results/long/runs.log"
run --check 2>/dev/null; [[ $? == 1 ]] || fail "--check passed a stale block"
run >/dev/null || fail "exit $? with tables"
readme=$(cat "$tmp/README.md")
for want in "**table4 title** ([table4.md](results/long/table4.md)" \
  "| s=1 | **98.00 ± 0.10** (87.57) · 2 ep: 97.00 | **93.00 ± 0.20** (49.52) · 2 ep: 90.00 |" \
  "Claims (1 holds, 1 not judged):" \
  "- **holds** (p = 0.0012; n = 3; at half the budget: holds, p < 0.0001): s helps" \
  "- **not judged** (at half the budget: contradicted, p = 0.9000): alpha helps. not judged: alpha=0.2 / PGD-20 87.00 -> 92.00 (+5.00)" \
  "Their runs took 5.0 h of wall time over 1 start(s) of \`tools/long_preset.sh\` on CPU A" \
  "After."; do
  [[ $readme == *"$want"* ]] || fail "README lacks '$want': $readme"
done
[[ $readme == *stale* || $readme == *"# Project"*"# Project"* ]] && fail "block not replaced: $readme"
[[ $readme != *"## The paper's claims"* ]] || fail "copied past the table"
run --check || fail "--check after writing"

# The eps03 preset's tables go into their own block, linked to their folder.
mktable table4 eps03
mktable table5 eps03
printf '%s\n' "2026-02-01T00:00:00Z start: 2 lane(s), 2 core(s), CPU B" \
  "2026-02-02T00:00:00Z end (exit 0): 86400 s wall" >"$tmp/results/eps03/runs.log"
run >/dev/null || fail "exit $? with eps03 tables"
readme=$(cat "$tmp/README.md")
for want in "**table4 title** ([table4.md](results/eps03/table4.md)" \
  "Their runs took 24.0 h of wall time over 1 start(s) of \`tools/long_preset.sh --preset=eps03\` on CPU B"; do
  [[ $readme == *"$want"* ]] || fail "README lacks '$want': $readme"
done
[[ ${readme%%long-preset-tables: begin*} == *"results/eps03/table4.md"* ]] ||
  fail "the eps03 block is not the first: $readme"
run --check || fail "--check after writing eps03"

echo '{"claims": [' >"$tmp/results/long/table5.json"
err=$(run 2>&1); rc=$?
[[ $rc == 1 && $err == *table5.json* ]] || fail "bad JSON: rc $rc: $err"
printf '# no markers\n' >"$tmp/README.md"
run 2>/dev/null; [[ $? == 2 ]] || fail "README without markers"
run --frob 2>/dev/null; [[ $? == 2 ]] || fail "unknown flag"
echo PASS
