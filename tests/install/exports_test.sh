#!/bin/sh
# The library exports exactly what src/libslabdbg.map names: slabdbg's API
# under version SLABDBG_0, the C library's and C++ runtime's names it
# replaces unversioned (so that they interpose under LD_PRELOAD).
# Usage: exports_test.sh LIBRARY MAP
set -eu
lib=$1
map=$2
fail() {
    echo "FAIL: $*" >&2
    exit 1
}
# versioned: the names inside the SLABDBG_0 node; unversioned: the names
# in the map's "unversioned:" comment block
versioned=$(sed -n '/^SLABDBG_0 {/,/^};/s/^ *\([A-Za-z_][A-Za-z0-9_]*\);$/\1/p' "$map" | sort)
unversioned=$(sed -n '/unversioned:/,/\*\//p' "$map" | sed '1d;$d; s/^ *\* *//' | tr ' ' '\n' | grep . | sort)
[ -n "$versioned" ] && [ -n "$unversioned" ] || fail "cannot read $map"
nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBRVWi]$/ { print $3 }' >"${TMPDIR:-/tmp}/exports.$$"
trap 'rm -f "${TMPDIR:-/tmp}/exports.$$"' EXIT
bad=0
while read -r sym; do
    case "$sym" in
    *@@SLABDBG_0)
        echo "$versioned" | grep -qx "${sym%@@SLABDBG_0}" ||
            { echo "exported as SLABDBG_0 but not in the map's node: $sym" >&2; bad=1; } ;;
    *@*) echo "exported with an unknown version: $sym" >&2; bad=1 ;;
    *)
        echo "$unversioned" | grep -qx "$sym" ||
            { echo "exported but named nowhere in $map: $sym (add it to the SLABDBG_0 node, or to the unversioned list if it replaces a libc or C++ runtime function)" >&2; bad=1; } ;;
    esac
done <"${TMPDIR:-/tmp}/exports.$$"
for sym in $versioned; do
    grep -qx "$sym@@SLABDBG_0" "${TMPDIR:-/tmp}/exports.$$" ||
        { echo "named in SLABDBG_0 but not exported: $sym" >&2; bad=1; }
done
[ $bad -eq 0 ] || fail "exports differ from $map"
echo "exports ok: $(echo "$versioned" | wc -l) SLABDBG_0, $(grep -vc @ "${TMPDIR:-/tmp}/exports.$$") unversioned"
