#!/bin/sh
# perl with a hash/regex heavy script: same output with and without slabdbg.
. "$(dirname "$0")/lib.sh"
need_prog perl

run_plain perl "$REAL_DIR/hash_regex.pl" >"$WORK/plain/out"
set +e
run_preload perl "$REAL_DIR/hash_regex.pl" >"$WORK/preload/out" 2>"$WORK/preload/stderr"
st=$?
set -e
expect_status 0 "$st" "perl under slabdbg"
compare_outputs out
check_stats 1
