#!/bin/bash
# README.md's long-preset tables are what results/long/ holds
# (tools/long_readme.py --check): a table rebuilt or a cell finished without
# updating README fails here.
root=$TEST_SRCDIR/$TEST_WORKSPACE
python3 "$root/tools/long_readme.py" --check --root="$root" && echo PASS
