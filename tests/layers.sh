#!/bin/sh
# The layers of the library call one way (src/base/common.h):
#   front -> core -> debug -> report, all of them -> base.
# Checked on the #include lines: base includes only base and the public
# header; core, debug and report include nothing of the front end; the
# tools take from the library only the option table.
cd "$(dirname "$0")/../src" || exit 2
bad=0
check() { # check DIR PATTERN WHY
    hits=$(grep -n "^#include \"$2" "$1"/*.[ch] 2>/dev/null)
    if [ -n "$hits" ]; then
        echo "FAIL: $3:"
        echo "$hits"
        bad=1
    fi
}
for layer in core debug report front tools; do
    check base "$layer/" "base includes $layer"
done
for layer in core debug report base; do
    check "$layer" "front/" "$layer includes the front end"
done
for layer in core debug report front; do
    check tools "$layer/" "the tools include the library's $layer"
done
hits=$(grep -n '^#include "base/' tools/*.c tools/*.h 2>/dev/null | grep -v 'base/options_table.h')
if [ -n "$hits" ]; then
    echo "FAIL: the tools include base headers other than the option table:"
    echo "$hits"
    bad=1
fi
[ $bad -eq 0 ] && echo "layers: every include goes the one way"
exit $bad
