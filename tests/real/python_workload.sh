#!/bin/sh
# python3 with an allocation-heavy script (every object through malloc
# thanks to PYTHONMALLOC=malloc) and a script with threads, a fork-based
# process pool and a subprocess: same output with and without slabdbg,
# run through "slabdbg run --".
. "$(dirname "$0")/lib.sh"
need_prog python3
PY=$(command -v python3)
export PYTHONMALLOC=malloc PYTHONHASHSEED=0 PYTHONDONTWRITEBYTECODE=1

run_plain "$PY" "$REAL_DIR/alloc_heavy.py" >"$WORK/plain/out"
set +e
run_cli "$PY" "$REAL_DIR/alloc_heavy.py" >"$WORK/preload/out" 2>"$WORK/preload/stderr"
st=$?
set -e
expect_status 0 "$st" "python3 under slabdbg"
compare_outputs out

run_plain "$PY" "$REAL_DIR/threads_fork.py" >"$WORK/plain/out2"
set +e
run_cli "$PY" "$REAL_DIR/threads_fork.py" >"$WORK/preload/out2" 2>"$WORK/preload/stderr"
st=$?
set -e
expect_status 0 "$st" "python3 threads/fork script under slabdbg"
compare_outputs out2
# both interpreters and the subprocess (pool workers leave with _exit,
# which writes no statistics)
check_stats 3
