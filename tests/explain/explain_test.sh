#!/bin/sh
# slabdbg explain, end to end: explain_test.sh CASE
#
# Environment (set by CTest): SLABDBG_CLI (the slabdbg binary), SLABDBG_LIB
# (libslabdbg.so), SEED (the re-enactment, build/examples/seed), FIXTURES
# (tests/explain/fixtures), SEED_SRC (examples/seed), CORPUS
# (tests/explain/corpus).
# Exit 0 pass, 1 fail, 77 skipped (with the reason on stdout).
set -u
case_name=${1:?usage: explain_test.sh CASE}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
out=$tmp/out
err=$tmp/err
fail=0

cli() { "$SLABDBG_CLI" "$@"; }

# expect TEXT: the last output holds TEXT (fixed string)
expect() {
    if ! grep -qF -- "$1" "$out"; then
        echo "FAIL ($case_name): output lacks: $1"
        fail=1
    fi
}
expect_re() {
    if ! grep -qE -- "$1" "$out"; then
        echo "FAIL ($case_name): output lacks /$1/"
        fail=1
    fi
}
reject() {
    if grep -qF -- "$1" "$out"; then
        echo "FAIL ($case_name): output has: $1"
        fail=1
    fi
}
status_is() {
    if [ "$1" != "$2" ]; then
        echo "FAIL ($case_name): exit status $1, expected $2"
        fail=1
    fi
}
# run ARGS...: slabdbg explain ARGS into $out/$err, status in $st
run() {
    cli explain "$@" >"$out" 2>"$err"
    st=$?
}
# jcheck PYTHON: assertions on the JSON in $out (the object is `j`)
jcheck() {
    if ! command -v python3 >/dev/null 2>&1; then
        echo "note: python3 missing, JSON fields not checked"
        return
    fi
    if ! python3 -c "
import json, sys
j = json.load(open(sys.argv[1]))
$1
" "$out"; then
        echo "FAIL ($case_name): JSON checks"
        fail=1
    fi
}

decoding() { cli explain --help | grep -q '^instruction decoding: yes'; }

seed_text_checks() {
    expect "Poison overwritten in kmalloc-1024 (kernel"
    expect "Object:     0xffff956178460008, 1024 bytes (from the hexdump)"
    expect "4 bytes at object offset 0x2c8: 0x00000106"
    expect "bytes 06 01 00 00 at 0xffff9561784602d0-0xffff9561784602d3, expected 0x6b"
    expect "0x106 looks like a small constant"
    expect "Allocated:  alloc_request_size+0x2b/0x70, 36 jiffies before the report, cpu 1, pid 3011"
    expect "Freed:      __blk_put_request+0xb7/0x190, 36 jiffies before the report, cpu 3, pid 0"
    expect "Found by:   pskb_expand_head+0x71/0x2a0, cpu 0, pid 0 (swapper/0), when it allocated the object again"
    expect "Missing:    some hexdump rows"
    expect "Repaired:   FIX kmalloc-1024: Restoring 0xffff9561784602d0-0xffff9561784602d3=0x6b"
}

seed_oops_checks() {
    expect "== Oops 1: NULL pointer dereference at 0x106"
    expect "Where:      skb_release_data+0xa3/0x170, cpu 28, pid 180 (ksoftirqd/28)"
    expect "Register:   RDI = 0x106 held the fault address"
    expect "Call trace: skb_release_all+0x24/0x30"
    expect "(6 unreliable \"?\" entries left out)"
    reject "? insert_work"
    if decoding; then
        expect_re "=> skb_release_data\+0xa3 +48 8b 1f +mov \(%rdi\), ?%rbx"
        expect "Faulting:   mov (%rdi), %rbx"
        expect "RDI was set by \"mov 8(%r14), %rdi\""
        expect "0x106 is not a NULL pointer plus a field offset of a plausible struct"
        expect "RDI itself held 0x106"
    else
        echo "note: built without capstone, instruction checks left out"
        expect "0x106 is not a NULL pointer plus a field offset of a plausible struct"
    fi
    expect "it looks like a constant written over a pointer"
}

case $case_name in
help)
    cli explain --help >"$out" 2>"$err"
    status_is $? 0
    for w in "--json" "--binary ELF" "--type NAME" "--btf FILE" "--src DIR" "types support:" \
        "instruction decoding:" "Exit status"; do
        expect "$w"
    done
    cli --help >"$out"
    expect "explain"
    ;;
garbage)
    run "$FIXTURES/garbage.txt"
    status_is "$st" 2
    [ -s "$out" ] && { echo "FAIL: output on garbage"; fail=1; }
    [ "$(wc -l <"$err")" -eq 1 ] || { echo "FAIL: not one line: $(cat "$err")"; fail=1; }
    grep -q "no memory-error report (SLUB, KASAN, KFENCE, slabdbg), kernel oops or crash dump found" "$err" || { echo "FAIL: message"; fail=1; }
    head -c 3000 /dev/urandom >"$tmp/random"
    run "$tmp/random"
    status_is "$st" 2
    run </dev/null
    status_is "$st" 2
    run "$tmp/does-not-exist"
    status_is "$st" 2
    grep -q "does-not-exist" "$err" || { echo "FAIL: no file name in the error"; fail=1; }
    run --no-such-option "$FIXTURES/garbage.txt"
    status_is "$st" 2
    ;;
seed-logs)
    run "$FIXTURES/slub-poison-overwritten.log" "$FIXTURES/oops-null-deref-0x106.log" \
        "$FIXTURES/crash-rd-kmalloc-1024-object.txt"
    status_is "$st" 0
    expect "slabdbg explain: 1 SLUB report, 1 oops, 1 crash dump"
    seed_text_checks
    seed_oops_checks
    expect "the oops dereferenced 0x106, the value found written into the freed kmalloc-1024 object at offset 0x2c8"
    expect "== Crash dump 1: 0xffff9612a277cc00, 128 words of 8 bytes (1024 bytes"
    expect "+0x1c0  0xffffffffb4e2ff70"
    expect "+0x1e0  0xffffffffb48a46c0"
    expect "+0x288  0xffffffffb4e33610"
    expect "+0x078  points at itself"
    expect "+0x2c8  0x106  <- the oops' fault address"
    expect "crash dump 1 holds 0x106 at offset 0x2c8 of its object, the offset where SLUB report 1 found it written"
    expect "R14 = +0x2c0"
    if decoding; then
        expect "oops 1 loaded RDI from 0xffff9612a277cec8 = crash dump 1 + 0x2c8, which holds that very value"
    fi
    # each log alone says what it can
    run "$FIXTURES/slub-poison-overwritten.log"
    status_is "$st" 0
    seed_text_checks
    reject "== Oops"
    run "$FIXTURES/oops-null-deref-0x106.log"
    status_is "$st" 0
    seed_oops_checks
    reject "== SLUB report"
    ;;
seed-logs-json)
    run --json "$FIXTURES/slub-poison-overwritten.log" "$FIXTURES/oops-null-deref-0x106.log" \
        "$FIXTURES/crash-rd-kmalloc-1024-object.txt"
    status_is "$st" 0
    [ "$(wc -l <"$out")" -eq 1 ] || { echo "FAIL: JSON is not one line"; fail=1; }
    jcheck "
r = j['reports'][0]
assert r['kind'] == 'poison_overwritten', r['kind']
assert r['cache'] == 'kmalloc-1024'
assert r['origin'] == 'kernel'
assert r['object'] == '0xffff956178460008' and r['object_size'] == 1024
s = r['stray']
assert s['offset'] == 0x2c8 and s['offset_hex'] == '0x2c8' and s['length'] == 4, s
assert s['value'] == '0x00000106' and s['bytes'] == ['06', '01', '00', '00'], s
assert s['not_a_pointer'] is True
assert r['alloc']['function'] == 'alloc_request_size' and r['alloc']['age'] == 36
assert r['alloc']['age_unit'] == 'jiffies' and r['alloc']['cpu'] == 1 and r['alloc']['pid'] == 3011
assert r['free']['function'] == '__blk_put_request' and r['free']['cpu'] == 3
assert r['found_by']['function'] == 'pskb_expand_head'
assert r['fix'] == ['FIX kmalloc-1024: Restoring 0xffff9561784602d0-0xffff9561784602d3=0x6b', 'FIX kmalloc-1024: Marking all objects used'], r['fix']
o = j['oopses'][0]
assert o['fault_address'] == '0x106' and o['registers']['RDI'] == '0x106'
assert o['rip']['function'] == 'skb_release_data'
assert 'RDI' in o['fault_address_in']
assert 'constant written over a pointer' in o['verdict']
assert len([f for f in o['call_trace'] if f.get('unreliable')]) == 6
d = j['dumps'][0]
assert d['base'] == '0xffff9612a277cc00' and d['words'] == 128
assert [t['offset'] for t in d['text']] == [0x1c0, 0x1e0, 0x288], d['text']
assert any('the oops dereferenced 0x106, the value found written into the freed kmalloc-1024 object at offset 0x2c8' in l for l in j['links'])
"
    if decoding; then
        jcheck "
o = j['oopses'][0]
assert o['faulting_instruction'] == 'mov (%rdi), %rbx', o['faulting_instruction']
assert o['base_loaded_by'] == 'mov 8(%r14), %rdi'
assert [c for c in o['code'] if c.get('faulting')][0]['offset'] == 0
"
    fi
    ;;
one-file)
    cat "$FIXTURES/slub-poison-overwritten.log" "$FIXTURES/oops-null-deref-0x106.log" >"$tmp/both.log"
    run "$tmp/both.log"
    status_is "$st" 0
    expect "slabdbg explain: 1 SLUB report, 1 oops, 0 crash dumps"
    expect "the oops dereferenced 0x106, the value found written into the freed kmalloc-1024 object at offset 0x2c8"
    # and the other order, through standard input
    cat "$FIXTURES/oops-null-deref-0x106.log" "$FIXTURES/slub-poison-overwritten.log" | cli explain - >"$out" 2>"$err"
    status_is $? 0
    expect "the oops dereferenced 0x106"
    expect "(kernel; standard input, lines"
    ;;
vintages)
    for f in slub-5.15-dmesg.log slub-5.13-hashed.log slub-2025-syslog.log; do
        run "$FIXTURES/$f"
        status_is "$st" 0
        expect "4 bytes at object offset 0x2c8: 0x00000106"
        expect "What:       a write into an object after it was freed (use after free)"
        expect "Found by:   "
    done
    run "$FIXTURES/slub-5.13-hashed.log"
    expect "(a hashed pointer)"
    expect "(offset from the @offset)"
    expect "Allocated:  drv_alloc_cmd+0x21/0x60 [mydrv]"
    run "$FIXTURES/slub-2025-syslog.log"
    expect "Object corrupt in kmalloc-1024"
    expect "Found by:   pskb_expand_head+0x71/0x2a0, cpu 1, pid 123 (kworker/1:1)"
    run "$FIXTURES/slub-5.15-dmesg.log" "$FIXTURES/oops-5.15-null-deref.log"
    status_is "$st" 0
    expect "the oops dereferenced 0x106, the value found written into the freed kmalloc-1024 object at offset 0x2c8"
    expect "Access:     supervisor read access in kernel mode"
    if decoding; then
        expect "Faulting:   mov (%rdi), %rbx"
        expect "oops 1 loaded RDI from 0xffff888004a402d0, offset 0x2c8 of the kmalloc-1024 object of SLUB report 1, the offset of the stray write"
    fi
    run "$FIXTURES/oops-gpf-poison.log"
    status_is "$st" 0
    expect "general protection fault at 0x6b6b6b6b6b6b6b6b"
    expect "SLUB's poison of a free object (0x6b): read from freed memory"
    ;;
truncated)
    run "$FIXTURES/slub-truncated.log"
    status_is "$st" 0
    expect "Poison overwritten in kmalloc-1024"
    expect "first byte 0x06 instead of 0x6b (its place in the object is not in the report)"
    expect "Allocated:  alloc_request_size+0x2b/0x70"
    expect "Missing:    the Object line"
    expect "the FIX line (the report may be cut short)"
    # a JSON line cut in the middle
    printf '%s\n' '{"kind":"overwritten","reason":"Poison overwritten","cache":"kmalloc-64","offset":8,"length":2,"first_byte":1,"alloc":{"function":"f+0x1/0x2","age_ms":3,"stack":[{"pc":"0x1","func' >"$tmp/cut.json"
    run "$tmp/cut.json"
    status_is "$st" 0
    expect "Poison overwritten in kmalloc-64"
    expect "2 bytes at object offset 0x8"
    expect "the end of the JSON line (cut short)"
    ;;
reenact | reenact-json)
    [ -x "$SEED" ] || { echo "skip: $SEED not built"; exit 77; }
    log=$tmp/seed.log
    json=$tmp/seed.json
    SLABDBG=FZPU SLABDBG_OPTIONS="log=$log:json=$json" LD_PRELOAD="$SLABDBG_LIB" "$SEED" \
        >"$tmp/seed.out" 2>"$tmp/seed.err"
    "$SEED" >/dev/null 2>"$tmp/plain.err"
    [ -s "$log" ] && [ -s "$json" ] || { echo "FAIL: the re-enactment wrote no report"; exit 1; }
    if [ "$case_name" = reenact ]; then
        run "$log"
        status_is "$st" 0
        expect "Poison overwritten in kmalloc-1024 (slabdbg"
        expect "4 bytes at object offset 0x2c8: 0x00000106"
        expect "bytes 06 01 00 00"
        expect "1024 bytes (from the hexdump)"
        expect_re "Allocated:  alloc_request\+0x[0-9a-f]+/0x[0-9a-f]+, [0-9]+ ms before the report, cpu [0-9]+, pid [0-9]+"
        expect_re "Freed:      put_request\+0x[0-9a-f]+/0x[0-9a-f]+, [0-9]+ ms before the report"
        expect "stack: put_request <- scsi_end_request <- scsi_done <- drv_intr_normal <- main"
        expect_re "Found by:   alloc_skb\+0x[0-9a-f]+/0x[0-9a-f]+, cpu [0-9]+, pid [0-9]+ \(seed\)"
        expect "0x106 looks like a small constant"
        # the JSON report alone: it carries the written bytes too
        run "$json"
        status_is "$st" 0
        expect "Poison overwritten in kmalloc-1024 (slabdbg"
        expect "4 bytes at object offset 0x2c8: 0x00000106"
        expect "expected 0x6b"
        expect_re "Allocated:  alloc_request\+0x"
        expect_re "Freed:      put_request\+0x"
        expect_re "Found by:   alloc_skb\+0x"
        # both: one finding, the JSON adds the requested size
        run "$log" "$json"
        status_is "$st" 0
        expect "slabdbg explain: 1 SLUB report, 0 oopses"
        expect "4 bytes at object offset 0x2c8: 0x00000106"
        expect "Also:       the JSON report on line 1"
        expect "1024 requested"
        # the plain run's crash links to the report
        grep -q "address 0000000000000106" "$tmp/plain.err" || { echo "FAIL: the plain run did not fault at 0x106"; fail=1; }
        run "$log" "$tmp/plain.err"
        status_is "$st" 0
        expect "== Oops 1: page fault at 0x106"
        expect "the oops dereferenced 0x106, the value found written into the freed kmalloc-1024 object at offset 0x2c8"
    else
        run --json "$log" "$json" "$tmp/plain.err"
        status_is "$st" 0
        jcheck "
r = j['reports']
assert len(r) == 1, len(r)
r = r[0]
assert r['origin'] == 'slabdbg' and r['format'] == 'text'
assert r['kind'] == 'poison_overwritten' and r['cache'] == 'kmalloc-1024'
assert r['stray']['offset'] == 0x2c8 and r['stray']['length'] == 4
assert r['stray']['value'] == '0x00000106'
assert r['requested_size'] == 1024
assert r['alloc']['function'] == 'alloc_request' and r['alloc']['age_unit'] == 'ms'
assert r['free']['function'] == 'put_request'
assert 'drv_intr_normal' in [f['function'] for f in r['free']['stack']]
assert r['found_by']['function'] == 'alloc_skb'
assert j['oopses'][0]['fault_address'] == '0x106'
assert any('the oops dereferenced 0x106' in l for l in j['links'])
"
        run --json "$json"
        status_is "$st" 0
        jcheck "
r = j['reports'][0]
assert r['format'] == 'json' and r['stray']['offset'] == 0x2c8 and r['stray']['length'] == 4
assert r['stray']['value'] == '0x00000106' and r['stray']['first_byte'] == 6
assert r['alloc']['function'] == 'alloc_request' and r['free']['function'] == 'put_request'
"
    fi
    ;;
types)
    [ -x "$SEED" ] || { echo "skip: $SEED not built"; exit 77; }
    if cli explain --help | grep -q "^types support: not built"; then
        echo "skip: slabdbg explain --help says types support is not built yet"
        exit 77
    fi
    if cli explain --help | grep -q "^source scanning: not built"; then
        echo "skip: slabdbg explain --help says source scanning is not built yet"
        exit 77
    fi
    log=$tmp/seed.log
    SLABDBG=FZPU SLABDBG_OPTIONS="log=$log" LD_PRELOAD="$SLABDBG_LIB" "$SEED" >/dev/null 2>&1
    [ -s "$log" ] || { echo "FAIL: the re-enactment wrote no report"; exit 1; }
    run "$log" --binary "$SEED" --type request+scsi_cmnd --src "$SEED_SRC"
    status_is "$st" 0
    expect "4 bytes at object offset 0x2c8: 0x00000106"
    expect "scsi_cmnd.SCp.phase"
    expect "DRV_OWNER_FIRMWARE"
    expect "drv_fib_complete"
    expect "drv_queuecommand"
    expect_re "Field: +at object offset 0x2c8 of request\+scsi_cmnd: scsi_cmnd\.SCp\.phase"
    expect_re "drv\.c:[0-9]+ drv_fib_complete: .*SCp\.phase = DRV_OWNER_FIRMWARE.*the same field"
    run --json "$log" --binary "$SEED" --type request+scsi_cmnd --src "$SEED_SRC"
    status_is "$st" 0
    jcheck "
t = j['types']
assert t['field'] == 'scsi_cmnd.SCp.phase', t
assert t['field_offset'] == 0x2c8
s = j['source']
assert 'DRV_OWNER_FIRMWARE' in [c['name'] for c in s['constants']]
fns = [a['function'] for a in s['assignments'] if a['same_field']]
assert 'drv_fib_complete' in fns and 'drv_queuecommand' in fns, fns
"
    # ranking without --type: candidates, and the field of the best one
    run "$log" --binary "$SEED"
    status_is "$st" 0
    expect "== Types ("
    expect "Candidates:"
    # the tracks' function names hint at request+scsi_cmnd
    expect_re "Candidates: request\+scsi_cmnd "
    expect "Field:      at object offset 0x2c8 of request+scsi_cmnd: scsi_cmnd.SCp.phase"
    # the kernel's logs with only the sources: the constant behind 0x106
    run "$FIXTURES/slub-poison-overwritten.log" --src "$SEED_SRC"
    status_is "$st" 0
    expect "DRV_OWNER_FIRMWARE"
    ;;
guard)
    # the seed under guard mode: the writer caught in the act, in text and
    # JSON; with the binary and the sources, the field and who assigns it
    [ -x "$SEED" ] || { echo "skip: $SEED not built"; exit 77; }
    log=$tmp/guard.log
    json=$tmp/guard.json
    "$SLABDBG_CLI" run -d G,kmalloc-1024 -o "log=$log" -o "json=$json" -- "$SEED" \
        >/dev/null 2>&1
    [ -s "$log" ] && [ -s "$json" ] || { echo "FAIL: the guard run wrote no report"; exit 1; }
    run "$log"
    status_is "$st" 0
    expect "slabdbg explain: 1 slabdbg guard report"
    expect "What:       a write into an object after it was freed (use after free)"
    expect "Place:      object offset 0x2c8 (712)"
    expect_re "Access by:  drv_fib_complete\+0x[0-9a-f]+/0x[0-9a-f]+, cpu [0-9]+, pid [0-9]+ \(seed\)"
    expect "drv_fib_complete wrote at offset 0x2c8 of a freed 1024-byte kmalloc-1024 object; it was allocated by alloc_request and freed by put_request."
    reject "1 byte"
    reject "Missing:"
    run "$log" "$json"
    status_is "$st" 0
    expect "Also:       the JSON report on line 1"
    run --json "$json"
    status_is "$st" 0
    jcheck "
r = j['reports']
assert len(r) == 1, len(r)
r = r[0]
assert r['parser'] == 'slabdbg-json' and r['kind'] == 'use_after_free_write', r['kind']
assert r['access']['kind'] == 'write' and 'size' not in r['access'], r['access']
assert r['offset'] == 0x2c8 and r['relation']['where'] == 'inside'
assert r['access_by']['function'] == 'drv_fib_complete'
assert r['alloc']['function'] == 'alloc_request' and r['free']['function'] == 'put_request'
"
    if cli explain --help | grep -q "^types support: yes" &&
        cli explain --help | grep -q "^source scanning: yes"; then
        run "$log" --binary "$SEED" --type request+scsi_cmnd --src "$SEED_SRC"
        status_is "$st" 0
        expect "scsi_cmnd.SCp.phase"
        expect "the statements assigning phase"
        expect_re "drv\.c:[0-9]+ drv_fib_complete: cmd->SCp\.phase = DRV_OWNER_FIRMWARE;"
        expect "drv_fib_complete, which made the access, is one of them"
    fi
    ;;
corpus)
    # the kept fuzzing inputs through the whole command: no crash, a status
    # of 0 or 2, and valid JSON whenever something was explained.  Every
    # input is read, analysed and printed both ways in process by
    # explain_parse_test; here, to keep the time of a process per input
    # down on a busy machine, one in two for JSON and one in eight for text.
    n=0
    mkdir "$tmp/json"
    for f in "$CORPUS"/*; do
        n=$((n + 1))
        if [ $((n % 8)) -eq 1 ]; then
            cli explain "$f" >/dev/null 2>&1
            s=$?
            [ $s -eq 0 ] || [ $s -eq 2 ] || { echo "FAIL: $f: exit status $s"; fail=1; }
        fi
        [ $((n % 2)) -eq 0 ] || continue
        cli explain --json "$f" >"$tmp/json/$n" 2>/dev/null
        s=$?
        [ $s -eq 0 ] || [ $s -eq 2 ] || { echo "FAIL: $f: --json exit status $s"; fail=1; }
        [ $s -eq 0 ] || rm -f "$tmp/json/$n"
    done
    echo "$n corpus inputs, $((n / 2 + n / 8)) runs"
    [ $n -gt 0 ] || fail=1
    if command -v python3 >/dev/null 2>&1; then
        python3 -c "
import json, os, sys
d = sys.argv[1]
for name in os.listdir(d):
    with open(os.path.join(d, name)) as f:
        json.load(f)
" "$tmp/json" || { echo "FAIL: invalid JSON output"; fail=1; }
    fi
    ;;
*)
    echo "unknown case $case_name"
    exit 2
    ;;
esac
if [ $fail -ne 0 ]; then
    echo "--- output of the last run:"
    cat "$out"
    cat "$err"
    exit 1
fi
echo "ok: $case_name"
exit 0
