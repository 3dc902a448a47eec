#!/bin/sh
# Allocation before main, in atexit handlers, in late destructors and in
# threads still running at exit(): every run must exit with status 0 and
# write its statistics.
. "$(dirname "$0")/lib.sh"
: "${EXIT_PATHS:?EXIT_PATHS must name the exit_paths program}"

runs=0
for mode in quiet busy; do
    i=0
    while [ $i -lt 15 ]; do
        set +e
        run_preload "$EXIT_PATHS" $mode >"$WORK/preload/out" 2>"$WORK/preload/stderr"
        st=$?
        set -e
        expect_status 0 "$st" "exit_paths $mode (run $i)"
        grep -qx 'main done' "$WORK/preload/out" || fail "exit_paths $mode printed nothing"
        runs=$((runs + 1))
        i=$((i + 1))
    done
done
echo "$runs runs exited with 0"
check_stats "$runs"
