#!/usr/bin/env bash
# The main demonstration: the seed incident (examples/seed) end to end.
set -uo pipefail
build=${1:-build}
here=$(cd "$(dirname "$0")/.." && pwd)
slabdbg="$here/$build/slabdbg"
seed="$here/$build/examples/seed"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "1. The incident: run plainly, it dies in the network code at address 0x106"
"$seed"
echo "(exit status $?)"

step "2. Under slabdbg with SLUB's debug flags: slabdbg run -d FZPU -- seed"
echo "The stray write is found when the network code takes the object again;"
echo "the report names who allocated and who freed it, with both stacks."
"$slabdbg" run -d FZPU -- "$seed"
echo "(exit status $?)"

step "3. Guard mode catches the writer in the act: slabdbg run -d G,kmalloc-1024 -- seed"
echo "Each kmalloc-1024 object sits against an inaccessible page and stays"
echo "inaccessible once freed: the driver's stray write faults, and the report"
echo "names the function that made it."
"$slabdbg" run -d G,kmalloc-1024 -- "$seed"
echo "(exit status $?)"

step "4. The same, for machines: one JSON line per report"
json=$(mktemp)
"$slabdbg" run -d FZPU,kmalloc-1024 -o "json=$json:log=/dev/null" -- "$seed" >/dev/null 2>&1
cut -c1-400 "$json"
echo "..."
rm -f "$json"

step "5. slabdbg explain: from the report to the field, the constant and the driver"
echo "The report (step 2) saved to a file, explained with the program's debug info"
echo "and its sources, as the analyst of the incident did by hand:"
report=$(mktemp)
"$slabdbg" run -d FZPU -o "log=$report" -- "$seed" >/dev/null 2>&1
"$slabdbg" explain "$report" --binary "$seed" --type request+scsi_cmnd --src "$here/examples/seed"
rm -f "$report"

step "6. The kernel's own logs of the incident, explained (no binary needed)"
fixtures="$here/tests/explain/fixtures"
"$slabdbg" explain "$fixtures/slub-poison-overwritten.log" "$fixtures/oops-null-deref-0x106.log" |
    sed -n '/== Links/,$p'

step "7. The crash explained from its core: slabdbg explain --core (no debug flag)"
echo "The plain crash again, under slabdbg without any debug flag, leaving a core"
echo "in a scratch directory; slabdbg explain --core then does what the analyst did"
echo "in crash(8): the faulting instruction and register, where the bad value came"
echo "from, the heap object holding it, its offset, the field and the constant."
work=$(mktemp -d)
pattern=$(cat /proc/sys/kernel/core_pattern 2>/dev/null)
core=""
if [ "${pattern#|}" = "$pattern" ] && [ "${pattern#/}" = "$pattern" ]; then
    # A plain pattern, relative to the working directory: the kernel writes
    # the core into $work once the size limit allows it.
    (cd "$work" && ulimit -c unlimited && "$slabdbg" run -- "$seed" >/dev/null 2>&1)
    core=$(ls "$work"/core* 2>/dev/null | head -1)
    [ -n "$core" ] && echo "(core written by the kernel: core_pattern '$pattern', ulimit -c unlimited)"
fi
if [ -z "$core" ] && command -v gdb >/dev/null; then
    # The system's pattern sends cores elsewhere (a pipe to systemd-coredump,
    # apport, an absolute directory): gdb runs the program and writes the
    # core itself (gcore) when the fault stops it.
    gdb -q -batch -ex "set environment LD_PRELOAD=$here/$build/libslabdbg.so" \
        -ex run -ex "generate-core-file $work/core" "$seed" >/dev/null 2>&1
    [ -s "$work/core" ] && core="$work/core" &&
        echo "(core written by gdb's gcore: the system's core_pattern '$pattern' is not a file here)"
fi
if [ -n "$core" ]; then
    "$slabdbg" explain --core "$core" --exe "$seed" --type request+scsi_cmnd \
        --src "$here/examples/seed" | grep -v '^     \|^Object  \|^  (\|^Call trace\|^            [a-z_]*+0x'
else
    echo "(no core: neither the kernel nor gdb could write one here)"
fi
rm -rf "$work"

step "8. A real program under slabdbg, with its slabinfo at exit (sqlite3)"
SLABDBG_STATS=1 "$slabdbg" run -- sqlite3 :memory: < "$here/examples/workload.sql" 2>&1 | head -20
echo "..."
