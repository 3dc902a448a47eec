#!/bin/sh
# Builds the Debian packages from debian/ (dpkg-buildpackage -us -uc -b, in
# a copy of the source tree) and checks them: the three packages and their
# contents, that apt could install them on this machine (simulated), an
# install into a scratch root whose slabdbg run uses its own library, and
# lintian (errors fail, the rest is printed).
# It compiles the whole tool and library again (30 s on an idle 2-core
# machine, four minutes inside a loaded full run), so it is opt-in: it runs
# when SLABDBG_TEST_PACKAGE=1 (make check-package), and exits 77 (skipped)
# otherwise, or when dpkg-buildpackage, debhelper or a build dependency is
# missing (scripts/deps.sh --package installs them).
# Environment: SRC_DIR, MULTIARCH, VERSION.
set -eu
: "${SRC_DIR:?}" "${MULTIARCH:?}" "${VERSION:?}"
unset SLABDBG_LIB LD_PRELOAD SLABDBG SLABDBG_OPTIONS SLABDBG_STATS

fail() {
    echo "FAIL: $*" >&2
    exit 1
}
skip() {
    echo "SKIP: $*"
    exit 77
}
[ "${SLABDBG_TEST_PACKAGE:-0}" = 1 ] ||
    skip "building the .debs is opt-in: SLABDBG_TEST_PACKAGE=1 ctest -L package (make check-package)"
command -v dpkg-buildpackage >/dev/null 2>&1 || skip "dpkg-buildpackage not installed (dpkg-dev)"
command -v dh >/dev/null 2>&1 || skip "dh not installed (debhelper)"
(cd "$SRC_DIR" && dpkg-checkbuilddeps) >/dev/null 2>&1 ||
    skip "build dependencies missing: $(cd "$SRC_DIR" && dpkg-checkbuilddeps 2>&1 | head -c 300)"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/slabdbg-deb.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
SRC=$WORK/slabdbg-$VERSION
mkdir "$SRC"
# the source tree as checked out (tracked and new files, nothing ignored)
if git -C "$SRC_DIR" rev-parse --git-dir >/dev/null 2>&1; then
    (cd "$SRC_DIR" && git ls-files -z --cached --others --exclude-standard) |
        (cd "$SRC_DIR" && xargs -0 sh -c 'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh) |
        (cd "$SRC_DIR" && tar --null --files-from=- -cf -) | (cd "$SRC" && tar xf -)
else
    (cd "$SRC_DIR" && tar cf - --exclude=./build --exclude='./obj-*' .) | (cd "$SRC" && tar xf -)
fi

start=$(date +%s)
(cd "$SRC" && DEB_BUILD_OPTIONS="parallel=2" dpkg-buildpackage -us -uc -b) >"$WORK/build.log" 2>&1 || {
    tail -n 40 "$WORK/build.log" >&2
    fail "dpkg-buildpackage failed"
}
echo "dpkg-buildpackage -us -uc -b: $(($(date +%s) - start)) s"
arch=$(dpkg --print-architecture)
for p in libslabdbg0 libslabdbg-dev slabdbg; do
    [ -f "$WORK/${p}_${VERSION}_$arch.deb" ] || fail "no ${p}_${VERSION}_$arch.deb"
done
contents() { dpkg-deb -c "$WORK/${1}_${VERSION}_$arch.deb" | awk '{ print $6 }'; }
has() { # has PACKAGE PATH
    contents "$1" | grep -qx "\./$2" || fail "$1 does not hold /$2"
}
has libslabdbg0 "usr/lib/$MULTIARCH/libslabdbg.so.$VERSION"
has libslabdbg0 "usr/lib/$MULTIARCH/libslabdbg.so.0"
has libslabdbg-dev "usr/lib/$MULTIARCH/libslabdbg.so"
has libslabdbg-dev "usr/lib/$MULTIARCH/pkgconfig/slabdbg.pc"
has libslabdbg-dev usr/include/slabdbg.h
has libslabdbg-dev usr/share/man/man3/slabdbg.3.gz
has slabdbg usr/bin/slabdbg
has slabdbg usr/share/man/man1/slabdbg-run.1.gz
has slabdbg usr/share/man/man1/slabdbg-triage.1.gz
has slabdbg usr/share/man/man1/slabdbg-inspect.1.gz
has slabdbg usr/share/man/man7/slabdbg.7.gz
echo "packages: libslabdbg0, libslabdbg-dev, slabdbg"

debs="$WORK/libslabdbg0_${VERSION}_$arch.deb $WORK/libslabdbg-dev_${VERSION}_$arch.deb $WORK/slabdbg_${VERSION}_$arch.deb"
if command -v apt-get >/dev/null 2>&1; then
    # shellcheck disable=SC2086 # debs are words
    apt-get -s install $debs >"$WORK/apt.log" 2>&1 || {
        cat "$WORK/apt.log" >&2
        fail "apt-get could not install the packages (simulated)"
    }
    echo "apt-get install (simulated): dependencies satisfied"
fi

# an install into a scratch root, used from there
R=$WORK/root
mkdir -p "$R/var/lib/dpkg/updates" "$R/var/lib/dpkg/info" "$R/var/lib/dpkg/triggers"
: >"$R/var/lib/dpkg/status"
# shellcheck disable=SC2086
dpkg --root="$R" --log=/dev/null --force-depends --force-script-chrootless -i $debs \
    >"$WORK/dpkg.log" 2>&1 || { cat "$WORK/dpkg.log" >&2; fail "dpkg -i into a scratch root"; }
out=$("$R/usr/bin/slabdbg" run -- sh -c 'echo "$LD_PRELOAD"; grep -o "/[^ ]*libslabdbg[^ ]*" /proc/$$/maps | sort -u')
[ "$(echo "$out" | sed -n 1p)" = "$R/usr/lib/$MULTIARCH/libslabdbg.so.0" ] ||
    fail "installed slabdbg run preloaded: $out"
[ "$(echo "$out" | sed -n 2p)" = "$R/usr/lib/$MULTIARCH/libslabdbg.so.$VERSION" ] ||
    fail "the program mapped: $out"
echo "installed from the packages: slabdbg run preloads $R/usr/lib/$MULTIARCH/libslabdbg.so.0"

if command -v lintian >/dev/null 2>&1; then
    lintian --pedantic -I "$WORK/slabdbg_${VERSION}_${arch}.changes" >"$WORK/lintian.log" 2>&1 || true
    grep -v "running with root privileges" "$WORK/lintian.log" || true
    ! grep -q '^E: ' "$WORK/lintian.log" || fail "lintian reports errors"
    echo "lintian: $(grep -c '^E: ' "$WORK/lintian.log") errors, $(grep -c '^W: ' "$WORK/lintian.log") warnings, $(grep -c '^[IPX]: ' "$WORK/lintian.log") notes"
fi
echo "deb ok"
