#!/bin/sh
# git (init, add, commit, branch, merge, log, gc, fsck) with fixed dates:
# same output with and without slabdbg.  The whole session runs under a
# preloaded shell, so the git processes get the library through exec,
# and stats files must come from several processes.
. "$(dirname "$0")/lib.sh"
need_prog git
need_prog seq

run_plain sh "$REAL_DIR/git_session.sh" "$WORK/plain/git" >"$WORK/plain/out"
set +e
run_preload sh "$REAL_DIR/git_session.sh" "$WORK/preload/git" \
    >"$WORK/preload/out" 2>"$WORK/preload/stderr"
st=$?
set -e
expect_status 0 "$st" "git session under slabdbg"
compare_outputs out
check_stats 10
