#!/bin/sh
# Installs slabdbg into a scratch root and uses the installed copy:
#   - make install PREFIX=/usr DESTDIR=ROOT: the files, the soname and its
#     links, the version script's exports;
#   - the installed "slabdbg run" finds the installed library (not the build
#     tree's) and the program really runs on it;
#   - a program built with the installed header and slabdbg.pc;
#   - "slabdbg run" finds the library in each installed layout: ../lib,
#     ../lib/<multiarch>, ../lib64, and through the soname file alone;
#   - the manual pages render without warnings.
# Environment (set by tests/install/CMakeLists.txt): SRC_DIR, BUILD_DIR,
# EXEC_CHAIN, MULTIARCH, VERSION, CC.
set -eu
: "${SRC_DIR:?}" "${BUILD_DIR:?}" "${EXEC_CHAIN:?}" "${MULTIARCH:?}" "${VERSION:?}" "${CC:?}"
unset SLABDBG_LIB LD_PRELOAD SLABDBG SLABDBG_OPTIONS SLABDBG_STATS

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

WORK=$(mktemp -d "${TMPDIR:-/tmp}/slabdbg-install.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
ROOT=$WORK/root

# ---- make install (the build itself is done: -o build skips it)
make -s -C "$SRC_DIR" -o build install BUILD="$BUILD_DIR" PREFIX=/usr DESTDIR="$ROOT" \
    >"$WORK/install.log" 2>&1 || { cat "$WORK/install.log" >&2; fail "make install failed"; }
LIB=$ROOT/usr/lib
for f in bin/slabdbg include/slabdbg.h "lib/libslabdbg.so.$VERSION" lib/pkgconfig/slabdbg.pc \
    share/man/man1/slabdbg.1 share/man/man1/slabdbg-run.1 share/man/man1/slabdbg-explain.1 \
    share/man/man1/slabdbg-triage.1 share/man/man1/slabdbg-inspect.1 \
    share/man/man3/slabdbg.3 share/man/man7/slabdbg.7; do
    [ -f "$ROOT/usr/$f" ] || fail "make install did not install usr/$f"
done
[ "$(readlink "$LIB/libslabdbg.so.0")" = "libslabdbg.so.$VERSION" ] ||
    fail "libslabdbg.so.0 -> $(readlink "$LIB/libslabdbg.so.0")"
[ "$(readlink "$LIB/libslabdbg.so")" = "libslabdbg.so.0" ] ||
    fail "libslabdbg.so -> $(readlink "$LIB/libslabdbg.so")"
soname=$(readelf -d "$LIB/libslabdbg.so.$VERSION" | sed -n 's/.*Library soname: \[\(.*\)\].*/\1/p')
[ "$soname" = libslabdbg.so.0 ] || fail "soname is '$soname'"
grep -qx "prefix=/usr" "$LIB/pkgconfig/slabdbg.pc" || fail "slabdbg.pc: $(cat "$LIB/pkgconfig/slabdbg.pc")"
grep -qx "Version: $VERSION" "$LIB/pkgconfig/slabdbg.pc" || fail "slabdbg.pc has no Version: $VERSION"
echo "make install: files, soname libslabdbg.so.0, links, slabdbg.pc"

# ---- the installed command runs a program on the installed library
out=$("$ROOT/usr/bin/slabdbg" run -- sh -c 'echo "$LD_PRELOAD"; grep -o "/[^ ]*libslabdbg[^ ]*" /proc/$$/maps | sort -u')
preload=$(echo "$out" | sed -n 1p)
mapped=$(echo "$out" | sed -n 2p)
[ "$preload" = "$LIB/libslabdbg.so.0" ] || fail "installed slabdbg run preloaded '$preload'"
[ "$mapped" = "$LIB/libslabdbg.so.$VERSION" ] || fail "the program mapped '$mapped'"
out=$("$ROOT/usr/bin/slabdbg" run -- "$EXEC_CHAIN" 0)
case "$out" in *lib=1*) ;; *) fail "the program does not use the library: $out" ;; esac
"$ROOT/usr/bin/slabdbg" --version | grep -qx "slabdbg $VERSION" || fail "installed --version"
echo "installed slabdbg run: LD_PRELOAD=$preload, malloc served by it"

# ---- a program built with the installed header and slabdbg.pc
if command -v pkg-config >/dev/null 2>&1; then
    flags=$(PKG_CONFIG_PATH= PKG_CONFIG_LIBDIR="$LIB/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$ROOT" \
        pkg-config --cflags --libs slabdbg)
    # shellcheck disable=SC2086 # flags are words
    "$CC" -std=c99 -Wall -Wextra -Werror -pedantic -o "$WORK/api_user" \
        "$SRC_DIR/tests/install/api_user.c" $flags || fail "cannot build against the install ($flags)"
    readelf -d "$WORK/api_user" | grep -q 'NEEDED.*\[libslabdbg.so.0\]' ||
        fail "the program does not need libslabdbg.so.0"
    out=$(LD_LIBRARY_PATH="$LIB" "$WORK/api_user") || fail "api_user failed: $out"
    [ "$out" = "$VERSION ok" ] || fail "api_user printed '$out'"
    echo "built with pkg-config ($flags): $out"
fi

# ---- each installed layout, and the soname file alone (the runtime package)
for dir in lib "lib/$MULTIARCH" lib64; do
    inst=$WORK/layout/$(echo "$dir" | tr / _)
    mkdir -p "$inst/bin" "$inst/$dir"
    cp "$ROOT/usr/bin/slabdbg" "$inst/bin/"
    cp "$LIB/libslabdbg.so.$VERSION" "$inst/$dir/"
    ln -s "libslabdbg.so.$VERSION" "$inst/$dir/libslabdbg.so.0"
    got=$("$inst/bin/slabdbg" run -- sh -c 'echo "$LD_PRELOAD"')
    [ "$got" = "$inst/$dir/libslabdbg.so.0" ] || fail "layout $dir: LD_PRELOAD=$got"
    echo "layout bin/../$dir: found"
done

# ---- manual pages
if command -v man >/dev/null 2>&1; then
    for page in "$ROOT"/usr/share/man/man*/*; do
        warnings=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null)
        [ -z "$warnings" ] || fail "$(basename "$page"): $warnings"
    done
    echo "manual pages render without warnings"
fi
# slabdbg(7) documents every setting of the option table and SLABDBG_NO_LIBDW
for name in $(sed -n 's/^ *X(\([a-z_]*\),.*/\1/p' "$SRC_DIR/src/base/options_table.h") SLABDBG_NO_LIBDW; do
    grep -q "$name" "$ROOT/usr/share/man/man7/slabdbg.7" || fail "slabdbg.7 does not mention $name"
done
echo "install ok"
