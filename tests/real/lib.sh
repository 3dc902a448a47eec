# Helpers for the real-program tests; sourced by each test script.
#
# Environment (set by tests/CMakeLists.txt):
#   SLABDBG_LIB   the shared library to preload
#   SLABDBG_CLI   the slabdbg command
#   REAL_DIR      this directory (scripts and data)
# Exit status 77 means "skipped" (program not installed).

set -eu

: "${SLABDBG_LIB:?SLABDBG_LIB must name libslabdbg.so}"
: "${SLABDBG_CLI:?SLABDBG_CLI must name the slabdbg command}"
: "${REAL_DIR:?REAL_DIR must name the tests/real directory}"

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

need_prog() {
    command -v "$1" >/dev/null 2>&1 || {
        echo "SKIP: $1 not found in PATH"
        exit 77
    }
}

[ -r "$SLABDBG_LIB" ] || fail "library $SLABDBG_LIB not found"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/slabdbg-real.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/plain" "$WORK/preload" "$WORK/stats"

# run_plain CMD...      runs without the library (and without stats)
run_plain() {
    env -u LD_PRELOAD -u SLABDBG_STATS "$@"
}

# run_preload CMD...    runs with LD_PRELOAD set, stats to $WORK/stats
run_preload() {
    env LD_PRELOAD="$SLABDBG_LIB" SLABDBG_STATS="$WORK/stats/stats.%p" "$@"
}

# run_cli CMD...        runs through "slabdbg run --", stats to $WORK/stats
run_cli() {
    env -u LD_PRELOAD SLABDBG_STATS="$WORK/stats/stats.%p" "$SLABDBG_CLI" run -- "$@"
}

# check_stats MIN_PROCESSES
# Requires at least MIN_PROCESSES stats files (one per process) whose
# first line starts with "slabdbg " and that have a kmalloc-<n> line
# with num_objs > 0, i.e. processes in which the library served malloc.
check_stats() {
    min=$1
    total=0
    good=0
    for f in "$WORK"/stats/stats.*; do
        [ -e "$f" ] || continue
        total=$((total + 1))
        if head -n 1 "$f" | grep -q '^slabdbg ' &&
            awk '$1 ~ /^kmalloc-[0-9]+$/ && $3 + 0 > 0 { found = 1 } END { exit !found }' "$f"; then
            good=$((good + 1))
        fi
    done
    echo "stats: $good of $total process stats files show slabdbg serving malloc"
    if [ "$good" -lt "$min" ]; then
        for f in "$WORK"/stats/stats.*; do
            [ -e "$f" ] || continue
            echo "--- $f" >&2
            head -n 20 "$f" >&2
        done
        fail "expected at least $min process(es) using slabdbg, found $good"
    fi
}

# compare_outputs NAME: diff $WORK/plain/NAME and $WORK/preload/NAME
compare_outputs() {
    if ! cmp -s "$WORK/plain/$1" "$WORK/preload/$1"; then
        diff -u "$WORK/plain/$1" "$WORK/preload/$1" | head -n 60 >&2 || true
        fail "output of $1 differs between the plain and the preloaded run"
    fi
    [ -s "$WORK/plain/$1" ] || fail "output $1 is empty"
    echo "$1: identical ($(wc -l <"$WORK/plain/$1") lines)"
}

# expect_status WANT GOT WHAT
expect_status() {
    [ "$2" -eq "$1" ] || {
        [ -f "$WORK/preload/stderr" ] && tail -n 30 "$WORK/preload/stderr" >&2
        fail "$3 exited with status $2, expected $1"
    }
}
