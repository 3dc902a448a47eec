#!/usr/bin/env bash
# The main demonstration: a real program (sqlite3 running an order-processing
# workload) under the slabdbg allocator, with slabdbg's per-cache statistics.
set -euo pipefail
build=${1:-build}
here=$(cd "$(dirname "$0")/.." && pwd)
slabdbg="$here/$build/slabdbg"

echo "== sqlite3 with glibc malloc"
sqlite3 :memory: < "$here/examples/workload.sql"
echo
echo "== the same under slabdbg: slabdbg run -- sqlite3 (SLABDBG_STATS=1 prints slabinfo at exit)"
SLABDBG_STATS=1 "$slabdbg" run -- sqlite3 :memory: < "$here/examples/workload.sql"
