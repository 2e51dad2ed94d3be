#!/bin/bash
# A stored preset's results (results/long, results/eps03) rebuild into the stored
# tables without training or attacking anything: each table binary runs with
# --merge on a copy of the cell folders (configs, per-epoch metrics, final
# attacks; no models but the transfer source), and its Markdown and JSON must
# equal the stored ones. A table not yet assembled (cells still training)
# must fail only because a cell is unfinished: every finished cell before it
# has to read back.
#
#   long_results_test.sh <table1_sweep | -> <table4_5_mnist> <results/PRESET/README.md> [PRESET]
#
# PRESET: long (the default) or eps03, whose results hold Tables 4-5 only
# (no Table 1 binary: -).
set -u
table1=$1
table45=$2
stored=$(dirname "$3")
preset=${4:-long}
work=${TEST_TMPDIR:-$(mktemp -d)}/long
fails=0

copy_results() {
  rm -rf "$work"
  mkdir -p "$work"
  # cp -L: the runfiles are links; the copy must be writable for --merge.
  cp -rL "$stored/." "$work/"
  chmod -R u+w "$work"
  rm -f "$work"/*.md "$work"/*.json "$work"/*.png
}

# A cell whose final attacks are still running here: its model sits beside
# its stored files in the source tree (models are never committed, so a
# clean clone has none and this never applies there).
in_progress() {  # <stderr of --merge>
  local cell real
  cell=$(grep -o "error: cell '[^']*': .* has no result for" "$1" | sed "s/error: cell '\([^']*\)'.*/\1/")
  [[ -n $cell && -e $stored/cells/$cell/metrics.json ]] || return 1
  real=$(dirname "$(readlink -f "$stored/cells/$cell/metrics.json")")
  [[ -f $real/checkpoint.pt ]]
}

check() {  # <binary> <table ids...>
  local bin=$1
  shift
  local assembled=1
  for id in "$@"; do [[ -f $stored/$id.json ]] || assembled=0; done
  copy_results
  "$bin" --preset="$preset" --merge --out_dir="$work" --threads=1 >"$work/stdout" 2>"$work/stderr"
  local rc=$?
  if ((assembled)); then
    if ((rc != 0)); then
      echo "FAIL: $(basename "$bin") --merge exited $rc on the stored cells:"
      tail -5 "$work/stderr"
      fails=$((fails + 1))
      return
    fi
    for id in "$@"; do
      for ext in md json; do
        if ! diff -u "$stored/$id.$ext" "$work/$id.$ext" >"$work/$id.$ext.diff"; then
          echo "FAIL: $id.$ext rebuilt from the stored cells differs from $stored/$id.$ext:"
          head -40 "$work/$id.$ext.diff"
          fails=$((fails + 1))
        fi
      done
    done
    echo "ok: $* rebuilt from the stored cells, identical"
  else
    if ((rc == 0)); then
      echo "FAIL: $(basename "$bin") assembled $* from the stored cells, but $stored has no $*"
      fails=$((fails + 1))
    elif grep -q "is not finished in" "$work/stderr"; then
      echo "ok: $* not assembled yet; the finished cells read back up to: $(grep -o "cell '[^']*'" "$work/stderr" | head -1) (unfinished)"
    elif in_progress "$work/stderr"; then
      echo "ok: $* not assembled yet; $(grep -o "cell '[^']*'" "$work/stderr" | head -1) is being attacked on this machine"
    else
      echo "FAIL: $(basename "$bin") --merge failed on a stored cell for another reason than an unfinished one:"
      tail -5 "$work/stderr"
      fails=$((fails + 1))
    fi
  fi
}

[[ $table1 == - ]] || check "$table1" table1
check "$table45" table4 table5
exit $((fails > 0))
