#!/bin/sh
# sqlite3 running a real SQL workload on an on-disk database: same output
# with and without slabdbg.
. "$(dirname "$0")/lib.sh"
need_prog sqlite3

run_plain sqlite3 "$WORK/plain/db.sqlite" <"$REAL_DIR/workload.sql" >"$WORK/plain/out"
set +e
run_preload sqlite3 "$WORK/preload/db.sqlite" <"$REAL_DIR/workload.sql" \
    >"$WORK/preload/out" 2>"$WORK/preload/stderr"
st=$?
set -e
expect_status 0 "$st" "sqlite3 under slabdbg"
compare_outputs out
grep -qx ok "$WORK/preload/out" || fail "integrity_check did not report ok"
check_stats 1
