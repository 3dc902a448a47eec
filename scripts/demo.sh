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

step "7. A real program under slabdbg, with its slabinfo at exit (sqlite3)"
SLABDBG_STATS=1 "$slabdbg" run -- sqlite3 :memory: < "$here/examples/workload.sql" 2>&1 | head -20
echo "..."
