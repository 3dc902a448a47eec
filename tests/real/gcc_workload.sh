#!/bin/sh
# gcc compiling a small C program under slabdbg (the driver's children cc1,
# as, collect2 and ld get the library through exec: stats files from
# several processes), then the program runs under slabdbg; its output must
# match the plainly compiled and plainly run program.
. "$(dirname "$0")/lib.sh"
need_prog gcc

run_plain gcc -O2 -o "$WORK/plain/compute" "$REAL_DIR/compute.c"
run_plain "$WORK/plain/compute" >"$WORK/plain/out"
set +e
run_preload gcc -O2 -o "$WORK/preload/compute" "$REAL_DIR/compute.c" 2>"$WORK/preload/stderr"
st=$?
set -e
expect_status 0 "$st" "gcc under slabdbg"
[ -s "$WORK/preload/stderr" ] && fail "gcc under slabdbg printed: $(head -c 2000 "$WORK/preload/stderr")"
# every process of the compilation has its own stats file
check_stats 3
set +e
run_preload "$WORK/preload/compute" >"$WORK/preload/out" 2>"$WORK/preload/stderr"
st=$?
set -e
expect_status 0 "$st" "compiled program under slabdbg"
compare_outputs out
check_stats 4
