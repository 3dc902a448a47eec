#!/bin/sh
# The preload survives exec: a chain of processes created by fork+exec,
# posix_spawn and exec in place must all run with slabdbg (checked inside
# each process, and by one stats file per process id).
. "$(dirname "$0")/lib.sh"
: "${EXEC_CHAIN:?EXEC_CHAIN must name the exec_chain program}"
DEPTH=9

set +e
run_preload "$EXEC_CHAIN" $DEPTH >"$WORK/preload/out" 2>"$WORK/preload/stderr"
st=$?
set -e
cat "$WORK/preload/out"
expect_status 0 "$st" "exec_chain"
lines=$(grep -c '^gen=' "$WORK/preload/out" || true)
[ "$lines" -eq $((DEPTH + 1)) ] || fail "expected $((DEPTH + 1)) generations, got $lines"
if grep -q 'lib=0' "$WORK/preload/out"; then
    fail "a generation ran without slabdbg"
fi
# every pid that printed must have written a stats file showing kmalloc use
pids=$(sed -n 's/.*pid=\([0-9]*\).*/\1/p' "$WORK/preload/out" | sort -u)
npids=$(echo "$pids" | wc -l)
for p in $pids; do
    f="$WORK/stats/stats.$p"
    [ -f "$f" ] || fail "no stats file for pid $p"
    awk '$1 ~ /^kmalloc-[0-9]+$/ && $3 + 0 > 0 { found = 1 } END { exit !found }' "$f" ||
        fail "stats of pid $p show no kmalloc use"
done
echo "$npids distinct processes, all with stats"
# exec in place keeps the pid, so there are fewer pids than generations
[ "$npids" -ge 6 ] || fail "expected at least 6 distinct processes, got $npids"
check_stats "$npids"
