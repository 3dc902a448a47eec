#!/bin/sh
# bench/run.py --plot DIR --replot RESULTS.json: the charts of a saved run
# (bench/plots/default.json, with a --pair added): time.svg, rss.svg and
# pair-glibc-slabdbg.svg, with the workloads and configurations of the run,
# the same bytes when drawn twice; bad arguments refused.
# Exit 77 (skipped) without matplotlib.  Environment: SRC_DIR, PYTHON.
set -eu
: "${SRC_DIR:?}" "${PYTHON:?}"
fail() {
    echo "FAIL: $*" >&2
    exit 1
}
WORK=$(mktemp -d "${TMPDIR:-/tmp}/slabdbg-plot.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
RUN=$SRC_DIR/bench/run.py
"$PYTHON" - "$SRC_DIR/bench/plots/default.json" "$WORK/run.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
d["pairs"] = [["glibc", "slabdbg"]]
json.dump(d, open(sys.argv[2], "w"))
PY
if ! "$PYTHON" "$RUN" --plot "$WORK/a" --replot "$WORK/run.json" 2>"$WORK/err"; then
    if grep -q "needs matplotlib" "$WORK/err"; then
        echo "SKIP: $(cat "$WORK/err")"
        exit 77
    fi
    cat "$WORK/err" >&2
    fail "run.py --plot --replot failed"
fi
grep -q "charts in $WORK/a: time.svg, rss.svg, pair-glibc-slabdbg.svg" "$WORK/err" ||
    fail "run.py said: $(cat "$WORK/err")"
for f in time rss pair-glibc-slabdbg; do
    head -c 200 "$WORK/a/$f.svg" | grep -q "<svg\|<?xml" || fail "$f.svg is not SVG"
done
for w in larson mstress xmalloc cache-scratch glibc-simple cfrac espresso sqlite geomean; do
    grep -q ">$w<\|$w" "$WORK/a/time.svg" || fail "time.svg does not name $w"
done
for a in jemalloc mimalloc tcmalloc slabdbg; do
    grep -q "$a" "$WORK/a/time.svg" || fail "time.svg does not name $a"
    grep -q "$a" "$WORK/a/rss.svg" || fail "rss.svg does not name $a"
done
grep -q "Wall time relative to glibc" "$WORK/a/time.svg" || fail "time.svg title"
grep -q "Peak RSS relative to glibc" "$WORK/a/rss.svg" || fail "rss.svg title"
grep -q "slabdbg against glibc" "$WORK/a/pair-glibc-slabdbg.svg" || fail "pair chart title"
"$PYTHON" "$RUN" --plot "$WORK/b" --replot "$WORK/run.json" 2>/dev/null
for f in time rss pair-glibc-slabdbg; do
    cmp -s "$WORK/a/$f.svg" "$WORK/b/$f.svg" || fail "$f.svg differs when drawn twice"
done
st=0
"$PYTHON" "$RUN" --replot "$WORK/run.json" 2>"$WORK/err" || st=$?
[ $st -ne 0 ] && grep -q "goes with --plot" "$WORK/err" || fail "--replot without --plot: $st"
echo '{"x": 1}' >"$WORK/bad.json"
st=0
"$PYTHON" "$RUN" --plot "$WORK/c" --replot "$WORK/bad.json" 2>"$WORK/err" || st=$?
[ $st -ne 0 ] && grep -q "not a results file" "$WORK/err" || fail "a bad results file: $st"
echo "plot ok"
