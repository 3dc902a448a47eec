#!/usr/bin/env bash
# Installs what building and testing slabdbg needs, when it is missing.
#   scripts/deps.sh          build and test dependencies
#   scripts/deps.sh --bench  also the peer allocators the benchmarks compare with
#   scripts/deps.sh --package  also what building the Debian packages needs
set -euo pipefail

need=()
want() { # want COMMAND-OR-FILE PACKAGE
    case "$1" in
        /*) [ -e "$1" ] || need+=("$2") ;;
        *) command -v "$1" >/dev/null 2>&1 || need+=("$2") ;;
    esac
}

want cmake cmake
want make make
want gcc gcc
want g++ g++
want python3 python3
want sqlite3 sqlite3
want git git
want perl perl
want tclsh tcl
want /usr/include/elfutils/libdwfl.h libdw-dev
want pkg-config pkg-config
want /usr/include/elfutils/libdw.h libdw-dev
want /usr/include/libelf.h libelf-dev
want /usr/include/capstone/capstone.h libcapstone-dev
want /usr/include/bpf/btf.h libbpf-dev
want /usr/include/json-c/json.h libjson-c-dev
want pahole dwarves
want gdb gdb # gcore: the demo's core when the system's core_pattern is a pipe
want /usr/include/json-c/json.h libjson-c-dev
want /usr/lib/python3/dist-packages/matplotlib python3-matplotlib
if [ "${1:-}" = "--package" ]; then
    want dpkg-buildpackage dpkg-dev
    want dh debhelper
    want lintian lintian
fi
if [ "${1:-}" = "--bench" ]; then
    lib=/usr/lib/x86_64-linux-gnu
    want $lib/libunwind.so.8 libunwind8 # bench_unwind compares with unw_backtrace
    want $lib/libjemalloc.so.2 libjemalloc2
    want $lib/libmimalloc.so.2 libmimalloc2.0
    want $lib/libtcmalloc_minimal.so.4 libtcmalloc-minimal4
fi

[ ${#need[@]} -eq 0 ] && exit 0
echo "installing: ${need[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq "${need[@]}"
