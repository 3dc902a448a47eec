#!/bin/sh
# tclsh with lists, dicts and strings: same output with and without slabdbg.
. "$(dirname "$0")/lib.sh"
need_prog tclsh

run_plain tclsh "$REAL_DIR/lists_dicts.tcl" >"$WORK/plain/out"
set +e
run_preload tclsh "$REAL_DIR/lists_dicts.tcl" >"$WORK/preload/out" 2>"$WORK/preload/stderr"
st=$?
set -e
expect_status 0 "$st" "tclsh under slabdbg"
compare_outputs out
check_stats 1
