#!/usr/bin/env python3
"""Runs one guard-mode / sampling case and checks what came out.

    run_guard.py --bindir DIR --lib LIB --cli SLABDBG --seed SEED --workdir DIR CASE
    run_guard.py ... --selftest
    run_guard.py ... --list

A case (CASES below) names a program of progs/ with its arguments, the
SLABDBG value and SLABDBG_OPTIONS, and what must come out:

  exit        ("signal", N) or ("status", N): how the process ended
  reports     the JSON reports (SLABDBG_OPTIONS=json=FILE), in order, each a
              dict of expected fields; there must be exactly that many
  text        regular expressions (multi-line) that the stderr text must
              match, in any order
  stdout_has / stdout_lacks
              lines (substrings) the program must / must not print; a line
              "FAIL: ..." (a check inside the program) always fails the case
  extra       a function for what the above cannot say (workload digests,
              counts printed by the program)

Expected report fields:
  kind, access, side, offset, distance, object_size, cache, reason (regex)
              compared with the JSON value
  alloc, free, found_by
              a function name: the "function" of the alloc/free track, or of
              found_by[0], up to its "+0x..." (None: the key must be absent)
  object      "object#I": the I-th "object=0x..." line the program printed
  pointer     ("object#I", DELTA): that object's address plus DELTA
  pid, alloc_pid, free_pid
              "stdout:NAME": the number the program printed as "NAME=N"
Every guard access report is also checked for consistency: address is
object + offset (inside), object + object_size + distance (right) or
object - distance (left).

--selftest runs cases with their feature taken away (no G, the other guard
side, sampling off, guard_continue off, ...) or with one expectation changed,
and fails unless every such run is rejected.
"""

import argparse
import copy
import json
import os
import re
import resource
import subprocess
import sys

SIGSEGV = 11
G1024 = "G,kmalloc-1024"

HEX = r"0x[0-9a-f]+"
FN = HEX + "/" + HEX  # "+0x17/0x24" after a function name


def bug_line(cache, what, func):
    return r"^BUG %s \(Not tainted\): %s in %s\+%s$" % (re.escape(cache), what, func, FN)


def access_inside(size, offset, freed=True):
    return r"^Access at %s: object %s \(%d bytes\) offset 0x%x \(%d\)%s$" % (
        HEX, HEX, size, offset, offset, ", freed" if freed else "")


def access_side(size, distance, side):
    where = "right of its end" if side == "right" else "left of it"
    unit = "byte" if distance == 1 else "bytes"
    return r"^Access at %s: object %s \(%d bytes\) %d %s %s$" % (
        HEX, HEX, size, distance, unit, where)


def tracks(alloc, free=None):
    pats = [r"^Allocated in %s\+%s age=\d+ cpu=\d+ pid=\d+$" % (alloc, FN)]
    if free:
        pats.append(r"^Freed in %s\+%s age=\d+ cpu=\d+ pid=\d+$" % (free, FN))
    return pats


def call_trace(func):
    return r"^Call Trace:\n %s\+%s" % (func, FN)


DIES = r"^Guard: the process ends with the fault's signal \(SLABDBG_OPTIONS=guard_continue=1 to go on\)$"


def oob_fault(prog, slabdbg, options, size, cache, access, side, distance, func):
    """A case of progs/oob.c whose one stray access beside an object of
    `size` bytes faults on the instruction: one report naming `func`, the
    object allocated by alloc_buffer and not freed, and death by SIGSEGV."""
    return dict(
        prog=prog, slabdbg=slabdbg, options=options, exit=("signal", SIGSEGV),
        reports=[dict(kind="out_of_bounds_%s_%s" % (access, side), access=access, side=side,
                      distance=distance, object_size=size, cache=cache, object="object#0",
                      alloc="alloc_buffer", free=None, found_by=func)],
        text=[bug_line(cache, "out-of-bounds " + access, func),
              access_side(size, distance, side), call_trace(func), DIES] + tracks("alloc_buffer"),
        stdout_lacks=["survived"])


def slack_at_free(prog, side, distance):
    """A case of progs/oob.c whose one stray write lands in the slack beside
    a 1000-byte G object in kmalloc-1024 (no fault): one report when the
    object is freed by release_buffer, with the first byte found and the
    allocation track; the program runs to its end."""
    return dict(
        prog=prog, slabdbg=G1024, exit=("status", 0),
        reports=[dict(kind="out_of_bounds_write_" + side, access="write", side=side,
                      distance=distance, object_size=1000, cache="kmalloc-1024",
                      object="object#0", alloc="alloc_buffer", free=None,
                      found_by="release_buffer",
                      reason=r"^out-of-bounds write %s of the object \(found at free\)$" % side)],
        text=[r"^BUG kmalloc-1024 \(Not tainted\): out-of-bounds write %s of the object "
              r"\(found at free\)$" % side,
              access_side(1000, distance, side), r"^First byte 0x42 instead of 0xcc$",
              call_trace("release_buffer")] + tracks("alloc_buffer"),
        stdout_has=["written", "released"])
GOES_ON = r"^Guard: the access goes through; the page is guarded again after it$"


def uaf_case(mode, offset, func):
    kind = "use_after_free_" + mode
    return dict(
        prog=["uaf", mode], slabdbg=G1024, exit=("signal", SIGSEGV),
        reports=[dict(kind=kind, access=mode, side="inside", offset=offset, object_size=1024,
                      cache="kmalloc-1024", object="object#0", alloc="alloc_buffer",
                      free="release_buffer", found_by=func,
                      reason=r"^use-after-free %s in %s\+" % (mode, func))],
        text=[bug_line("kmalloc-1024", "use-after-free " + mode, func),
              access_inside(1024, offset), call_trace(func), DIES]
        + tracks("alloc_buffer", "release_buffer"),
        stdout_has=["freed"], stdout_lacks=["survived"])


def handler_uaf_case(how):
    return dict(
        prog=["own_handler", how, "uaf"], slabdbg=G1024, exit=("signal", SIGSEGV),
        reports=[dict(kind="use_after_free_write", access="write", offset=8,
                      object="object#0", alloc="alloc_buffer", free="release_buffer",
                      found_by="stray_writer")],
        text=[bug_line("kmalloc-1024", "use-after-free write", "stray_writer"),
              access_inside(1024, 8), DIES],
        stdout_has=["handler installed"], stdout_lacks=["OWN HANDLER", "survived"])


def handler_null_case(how):
    return dict(
        prog=["own_handler", how, "null"], slabdbg=G1024, exit=("status", 42),
        reports=[], text=[], text_lacks=[r"^BUG "],
        stdout_has=["handler installed", "OWN HANDLER (%s) SIGSEGV" % how],
        stdout_lacks=["survived"])


def sample_uaf_case(rate):
    return dict(
        prog=["sample", "uaf"], options={"sample_rate": rate}, exit=("signal", SIGSEGV),
        reports=[dict(kind="use_after_free_write", access="write", side="inside", offset=8,
                      object_size=64, cache="kmalloc-64", object="object#0",
                      alloc="alloc_object", free="release_object",
                      found_by="sampled_stray_writer")],
        text=[bug_line("kmalloc-64", "use-after-free write", "sampled_stray_writer"),
              access_inside(64, 8), call_trace("sampled_stray_writer"), DIES]
        + tracks("alloc_object", "release_object"),
        stdout_has=["freed"], stdout_lacks=["survived"])


def prod_case(variant, kinds):
    """progs/badfree_prod.c VARIANT without SLABDBG: `kinds` is a list of
    (kind, count), the JSON reports in order."""
    return dict(prog=["badfree_prod", variant], options={"sample_rate": 0}, exit=("status", 0),
                reports=[dict(kind=k) for k, n in kinds for _ in range(n)],
                stdout_has=["ok " + variant, "done"])


def stdout_value(out, name):
    m = re.search(r"^%s=(\S+)" % re.escape(name), out, re.M)
    return m.group(1) if m else None


def check_guarded_share(chk, res, share):
    """The churn program's "guarded=N of M": at least that share guarded."""
    m = re.search(r"^guarded=(\d+) of (\d+)$", res.stdout, re.M)
    chk.ok("guarded count printed", m is not None, "no guarded=... line")
    if m:
        n, total = int(m.group(1)), int(m.group(2))
        chk.ok("guarded share", total > 0 and n >= share * total,
               "%d of %d objects guarded, expected at least %.0f%%" % (n, total, 100 * share))


def check_workload(ctx, res, chk, case):
    """Same digest as without slabdbg; samples seen when sampling is on."""
    plain = ctx.run_plain(case["prog"])
    chk.eq("plain run status", plain.returncode, 0)
    want = re.search(r"^ops=\d+ digest=\S+$", plain.stdout, re.M)
    got = re.search(r"^ops=\d+ digest=\S+$", res.stdout, re.M)
    chk.ok("digest printed", want is not None and got is not None, "no ops=... digest=... line")
    if want and got:
        chk.eq("digest (same as without slabdbg)", got.group(0), want.group(0))
    m = re.search(r"^guarded_seen=(\d+) of (\d+) probed$", res.stdout, re.M)
    chk.ok("guarded_seen printed", m is not None, "no guarded_seen line")
    if m and case.get("min_guarded"):
        chk.ok("sampled objects seen", int(m.group(1)) >= case["min_guarded"],
               "%s sampled objects seen, expected at least %d" % (m.group(1),
                                                                  case["min_guarded"]))


def check_pool_live(ctx, res, chk, case):
    slots = int(case["prog"][2])
    v = stdout_value(res.stdout, "pool_live")
    chk.ok("pool_live printed", v is not None, "no pool_live line")
    if v is not None:
        chk.ok("pool holds at most sample_slots", int(v) <= slots, "%s > %d" % (v, slots))


def check_sample_off(ctx, res, chk, case):
    m = re.search(r"^sampled=(\d+) of (\d+)$", res.stdout, re.M)
    chk.ok("sampled count printed", m is not None, "no sampled=... line")
    if m:
        chk.eq("objects sampled with sample_rate=0", int(m.group(1)), 0)
        chk.ok("objects allocated", int(m.group(2)) >= 2000, m.group(0))


CASES = {
    # 1. use after free
    "uaf_write": uaf_case("write", 100, "stray_writer"),
    "uaf_read": uaf_case("read", 200, "stray_reader"),
    # G on every cache and a short quarantine: the report's own allocations
    # (symbolizing) are guarded objects too, and their frees push the faulting
    # object out of the quarantine while the report is being made.  The
    # process must still die of the fault: the stray write must not go
    # through into whatever is mapped at that address by then.
    "uaf_small_quarantine": dict(uaf_case("write", 100, "stray_writer"), slabdbg="G",
                                 options={"guard_quarantine": 64}),

    # 2. out of bounds
    "oob_right": dict(
        prog=["oob", "right"], slabdbg=G1024, exit=("signal", SIGSEGV),
        reports=[dict(kind="out_of_bounds_write_right", access="write", side="right", distance=0,
                      object_size=1024, cache="kmalloc-1024", object="object#0",
                      alloc="alloc_buffer", free=None, found_by="overflow_writer")],
        text=[bug_line("kmalloc-1024", "out-of-bounds write", "overflow_writer"),
              access_side(1024, 0, "right"), call_trace("overflow_writer"), DIES]
        + tracks("alloc_buffer"),
        text_lacks=[r"^Freed in "], stdout_lacks=["survived"]),
    "oob_right_read": dict(
        prog=["oob", "rightread"], slabdbg=G1024, exit=("signal", SIGSEGV),
        reports=[dict(kind="out_of_bounds_read_right", access="read", side="right", distance=0,
                      object_size=1024, object="object#0", alloc="alloc_buffer", free=None,
                      found_by="overflow_reader")],
        text=[bug_line("kmalloc-1024", "out-of-bounds read", "overflow_reader"),
              access_side(1024, 0, "right")],
        stdout_lacks=["survived"]),
    "oob_exact": oob_fault(["oob", "exact"], G1024, {"guard_align": 1}, 1000, "kmalloc-1024",
                           "write", "right", 0, "overflow_writer"),
    "oob_exact_read": oob_fault(["oob", "exactread", "13"], "G,kmalloc-16", {"guard_align": 1}, 13,
                                "kmalloc-16", "read", "right", 0, "overflow_reader"),
    "oob_under_slack": slack_at_free(["oob", "under"], "left", 1),
    "oob_under_far": oob_fault(["oob", "underfar"], G1024, {}, 1000, "kmalloc-1024", "write",
                               "left", 3097, "far_underflow_writer"),
    "watch_over_read": oob_fault(["oob", "watchover"], "G,kmalloc-64", {"guard_watch": 1}, 50,
                                 "kmalloc-64", "read", "right", 0, "overflow_reader"),
    "watch_under_read": oob_fault(["oob", "watchunder"], "G,kmalloc-64", {"guard_watch": 1}, 50,
                                  "kmalloc-64", "read", "left", 1, "underflow_reader"),
    "watch_strings": dict(
        prog=["oob", "watchstr"], slabdbg="G", options={"guard_watch": 1},
        exit=("status", 0), reports=[], text_lacks=[r"^BUG "],
        stdout_has=["strings 34", "done"]),
    "churn_threads": dict(
        prog=["churn", "8", "6000"], slabdbg="G", options={"guard_quarantine": 64},
        exit=("status", 0), reports=[], text_lacks=[r"^BUG "], stdout_has=["done"],
        extra=lambda ctx, res, chk, case: check_guarded_share(chk, res, 0.99)),
    "churn_threads_sampled": dict(
        prog=["churn", "8", "6000"], options={"sample_rate": 1, "sample_per_sec": 0},
        exit=("status", 0), reports=[], text_lacks=[r"^BUG "], stdout_has=["done"],
        extra=lambda ctx, res, chk, case: check_guarded_share(chk, res, 0.01)),
    "oob_slack": slack_at_free(["oob", "slack"], "right", 0),
    "oob_left": dict(
        prog=["oob", "left"], slabdbg=G1024, options={"guard_side": "left"},
        exit=("signal", SIGSEGV),
        reports=[dict(kind="out_of_bounds_write_left", access="write", side="left", distance=1,
                      object_size=1024, cache="kmalloc-1024", object="object#0",
                      alloc="alloc_buffer", free=None, found_by="underflow_writer")],
        text=[bug_line("kmalloc-1024", "out-of-bounds write", "underflow_writer"),
              access_side(1024, 1, "left"), call_trace("underflow_writer"), DIES],
        stdout_lacks=["survived"]),

    # 3. bad frees
    "double_free": dict(
        prog=["badfree", "double"], slabdbg=G1024, exit=("status", 0),
        reports=[dict(kind="double_free", cache="kmalloc-1024", pointer=("object#0", 0),
                      alloc="alloc_buffer", free="free_once", found_by="free_again",
                      reason="^double free$")],
        text=[r"^BUG kmalloc-1024 \(Not tainted\): double free$", call_trace("free_again"),
              r"^FIX kmalloc-1024: Object at %s not freed$" % HEX]
        + tracks("alloc_buffer", "free_once"),
        stdout_has=["done"]),
    "invalid_free": dict(
        prog=["badfree", "interior"], slabdbg=G1024, exit=("status", 0),
        reports=[dict(kind="invalid_free", cache="kmalloc-1024", pointer=("object#0", 16),
                      alloc="alloc_buffer", free=None, found_by="free_interior")],
        text=[r"^BUG kmalloc-1024 \(Not tainted\): invalid free of %s$" % HEX,
              call_trace("free_interior")] + tracks("alloc_buffer"),
        stdout_has=["done"]),

    # 4. the program's own SIGSEGV handler
    "handler_sigaction_uaf": handler_uaf_case("sigaction"),
    "handler_sigaction_null": handler_null_case("sigaction"),
    "handler_signal_uaf": handler_uaf_case("signal"),
    "handler_signal_null": handler_null_case("signal"),

    # 5. threads
    "threads": dict(
        prog=["threads"], slabdbg=G1024, exit=("signal", SIGSEGV),
        reports=[dict(kind="use_after_free_write", access="write", offset=512, object="object#0",
                      alloc="thread_alloc", free="thread_release", found_by="stray_thread_writer",
                      alloc_pid="stdout:stray_tid", free_pid="stdout:stray_tid")],
        text=[bug_line("kmalloc-1024", "use-after-free write", "stray_thread_writer"),
              access_inside(1024, 512), call_trace("stray_thread_writer"),
              r"^CPU: \d+ PID: {stray_tid} Comm: threads Not tainted$"],
        stdout_lacks=["survived", "all joined"]),

    # 6. guard_continue=1
    "continue_preload": dict(
        prog=["cont", "uaf"], slabdbg=G1024, options={"guard_continue": 1},
        exit=("status", 0),
        reports=[dict(kind="use_after_free_write", offset=10, object="object#0",
                      found_by="first_stray_write", alloc="alloc_buffer", free="release_buffer"),
                 dict(kind="use_after_free_write", offset=20, object="object#1",
                      found_by="second_stray_write", alloc="alloc_buffer", free="release_buffer"),
                 dict(kind="use_after_free_write", offset=30, object="object#2",
                      found_by="third_stray_write", alloc="alloc_buffer", free="release_buffer")],
        text=[bug_line("kmalloc-1024", "use-after-free write", "first_stray_write"),
              bug_line("kmalloc-1024", "use-after-free write", "second_stray_write"),
              bug_line("kmalloc-1024", "use-after-free write", "third_stray_write"),
              access_inside(1024, 10), access_inside(1024, 20), access_inside(1024, 30),
              GOES_ON],
        text_lacks=[DIES], stdout_has=["completed"]),
    "continue_run": dict(
        prog=["cont", "uaf"], cli=True, slabdbg=G1024, options={"guard_continue": 1},
        exit=("status", 1),
        reports=[dict(kind="use_after_free_write", offset=10, found_by="first_stray_write"),
                 dict(kind="use_after_free_write", offset=20, found_by="second_stray_write"),
                 dict(kind="use_after_free_write", offset=30, found_by="third_stray_write")],
        text=[r"^slabdbg: 3 reports"], stdout_has=["completed"]),
    "continue_alternate": dict(
        prog=["cont", "alternate"], slabdbg=G1024,
        options={"guard_continue": 1, "guard_side": "alternate"}, exit=("status", 0),
        reports=[dict(kind="out_of_bounds_write_right", side="right", distance=0,
                      object="object#0", found_by="overflow_writer", free=None),
                 dict(kind="out_of_bounds_write_left", side="left", distance=1,
                      object="object#1", found_by="underflow_writer", free=None)],
        text=[access_side(1024, 0, "right"), access_side(1024, 1, "left"), GOES_ON],
        stdout_has=["completed"]),

    # 7. sampling (no G)
    # At sample_rate=1 the report's own allocations (symbolizing) are sampled
    # too and take the pool slots in turn, the faulting object's among them;
    # the process must still die of the fault, not let the stray write go
    # through into the slot's new object.
    "sample_uaf": sample_uaf_case(1),
    "sample_uaf_rate100": sample_uaf_case(100),
    # The heap already corrupted (free links and markers of every small
    # class overwritten): the fault's report allocates nothing from it, so it
    # comes out whole, the only report, and the process dies of the fault.
    "sample_uaf_corrupt_heap": dict(sample_uaf_case(1), prog=["sample", "uaf_corrupt"]),
    "sample_usable": dict(
        prog=["sample", "usable", "127"], options={"sample_rate": 1}, exit=("status", 0),
        reports=[], extra=check_pool_live),
    "sample_usable_small_pool": dict(
        prog=["sample", "usable", "20"], options={"sample_rate": 1, "sample_slots": 20},
        exit=("status", 0), reports=[], extra=check_pool_live),
    "sample_realloc": dict(
        prog=["sample", "realloc"], options={"sample_rate": 1}, exit=("status", 0), reports=[]),
    "sample_slack": dict(
        prog=["sample", "slack"], options={"sample_rate": 1}, exit=("status", 0),
        reports=[dict(kind="out_of_bounds_write_right", side="right", distance=0, object_size=60,
                      cache="kmalloc-64", object="object#0", alloc="alloc_object", free=None,
                      found_by="release_object")],
        text=[access_side(60, 0, "right"), r"^First byte 0x5d instead of 0xcc$"],
        stdout_has=["released"]),
    "sample_workload_rate1": dict(
        prog=["workload"], options={"sample_rate": 1}, exit=("status", 0), reports=[],
        text_lacks=[r"^BUG "], extra=check_workload, min_guarded=100),
    "sample_workload_default": dict(
        prog=["workload"], options={}, exit=("status", 0), reports=[],
        text_lacks=[r"^BUG "], extra=check_workload),
    "sample_off": dict(
        prog=["sample", "off"], options={"sample_rate": 0}, exit=("status", 0), reports=[],
        extra=check_sample_off),

    # 8. the seed incident
    "seed": dict(
        seed=True, cli=True, slabdbg=G1024, exit=("status", 128 + SIGSEGV),
        reports=[dict(kind="use_after_free_write", access="write", side="inside", offset=0x2c8,
                      object_size=1024, cache="kmalloc-1024", alloc="alloc_request",
                      free="put_request", found_by="drv_fib_complete")],
        text=[bug_line("kmalloc-1024", "use-after-free write", "drv_fib_complete"),
              access_inside(1024, 0x2c8), call_trace("drv_fib_complete"),
              r"^slabdbg: 1 report"] + tracks("alloc_request", "put_request")),

    # Alignment asked for, kept by guarded and sampled objects: an object
    # placed against its guard page with the alignment of its size only
    # (1 byte for 1 byte) breaks memalign(8, 1) or posix_memalign(64, 40).
    "aligned_sampled": dict(
        prog=["aligned", "sampled"], options={"sample_rate": 1}, exit=("status", 0), reports=[],
        stdout_has=["misaligned=0 of"]),
    "aligned_guarded": dict(
        prog=["aligned", "guarded"], slabdbg="G", exit=("status", 0), reports=[],
        stdout_has=["misaligned=0 of"]),

    # A thread with a small stack that never allocated: the report needs an
    # alternate signal stack there too, or it overflows the thread's 64 KiB
    # halfway through the text and the JSON never comes out.
    "small_stack_thread": dict(
        prog=["small_stack"], slabdbg=G1024, exit=("signal", SIGSEGV),
        reports=[dict(kind="use_after_free_write", offset=40, object="object#0",
                      alloc="alloc_buffer", free="release_buffer", found_by="small_stack_writer")],
        text=[bug_line("kmalloc-1024", "use-after-free write", "small_stack_writer"),
              call_trace("small_stack_writer")],
        stdout_lacks=["survived"]),

    # 10. production mode (no SLABDBG): the bad frees glibc refuses, in
    # their harder forms (progs/badfree_prod.c checks one report per bad
    # free and that no memory is handed out twice; here, their kinds).
    "prod_double_free_not_head": prod_case("double_free_not_head", [("already_free", 20)]),
    "prod_double_free_thread": prod_case("double_free_thread", [("already_free", 40)]),
    "prod_double_free_flushed": prod_case("double_free_flushed", [("already_free", 20)]),
    # The slabs of the three largest sizes go back with their whole segment.
    "prod_double_free_slab_released": prod_case("double_free_slab_released",
                                                [("already_free", 9)]),
    "prod_interior_frees": dict(prod_case("interior_frees", [("invalid_pointer", 577)]),
                                stdout_has=["interior frees: 577 in 105 classes", "done"]),
    "prod_foreign_frees": prod_case("foreign_frees", [("outside_slab", 10)]),
    "prod_huge_frees": prod_case("huge_frees", [
        ("invalid_pointer", 4), ("already_free", 2), ("invalid_pointer", 4), ("already_free", 2),
        ("invalid_pointer", 5), ("already_free", 2), ("invalid_pointer", 5), ("already_free", 2)]),
    "prod_huge_realloc_moved": prod_case("huge_realloc_moved", [("already_free", 1)]),
    "prod_realloc_freed": prod_case("realloc_freed", [("already_free", 20)]),

    # 9. fork
    "fork": dict(
        prog=["fork"], slabdbg=G1024 + ",kmalloc-5120", options={"sample_rate": 1},
        exit=("status", 0),
        reports=[dict(kind="use_after_free_write", offset=300, found_by="child_stray_writer",
                      cache="kmalloc-5120", object_size=5000, alloc="alloc_huge_guarded",
                      free="release", pid="stdout:stray_child")],
        stdout_has=["parent done"]),
}

# Runs that must be rejected: (case, what is changed, changes).  "env"
# replaces SLABDBG ("slabdbg") or SLABDBG_OPTIONS entries ("options"); the
# others replace expectations.
SABOTAGE = [
    ("uaf_small_quarantine", "no G", {"slabdbg": None, "options": {"sample_rate": 0}}),
    ("uaf_write", "no G, no sampling", {"slabdbg": None, "options": {"sample_rate": 0}}),
    ("uaf_write", "another writer expected", {"report0": {"found_by": "stray_reader"}}),
    ("uaf_write", "another offset expected", {"report0": {"offset": 101}}),
    ("uaf_write", "another free function expected", {"report0": {"free": "alloc_buffer"}}),
    ("uaf_read", "a write expected", {"report0": {"kind": "use_after_free_write"}}),
    ("uaf_read", "exit 0 expected", {"exit": ("status", 0)}),
    ("oob_right", "guard on the left", {"options": {"guard_side": "left"}}),
    ("oob_right", "distance 1 expected", {"report0": {"distance": 1}}),
    ("oob_right_read", "a write expected", {"report0": {"access": "write"}}),
    ("oob_right_read", "no G", {"slabdbg": None}),
    ("oob_exact", "16-byte alignment", {"options": {"guard_align": 16}}),
    ("oob_exact_read", "8-byte alignment", {"options": {"guard_align": 8}}),
    ("oob_exact_read", "the default alignment", {"options": {"guard_align": 16}}),
    ("oob_under_slack", "guard on the left", {"options": {"guard_side": "left"}}),
    ("oob_under_slack", "right side expected", {"report0": {"side": "right"}}),
    ("oob_under_far", "no G", {"slabdbg": None}),
    ("oob_under_far", "distance 3096 expected", {"report0": {"distance": 3096}}),
    ("watch_over_read", "not watched", {"options": {"guard_watch": 0}}),
    ("watch_under_read", "not watched", {"options": {"guard_watch": 0}}),
    ("watch_under_read", "distance 2 expected", {"report0": {"distance": 2}}),
    ("watch_strings", "a report expected", {"reports": [dict(kind="out_of_bounds_read_left")]}),
    ("churn_threads", "no G", {"slabdbg": None}),
    ("churn_threads_sampled", "sampling off", {"options": {"sample_rate": 0}}),
    ("oob_slack", "no G", {"slabdbg": None}),
    ("oob_slack", "exact alignment", {"options": {"guard_align": 1}}),
    ("oob_slack", "found_by the writer expected", {"report0": {"found_by": "overflow_writer"}}),
    ("oob_left", "guard on the right", {"options": {"guard_side": "right"}}),
    ("oob_left", "right side expected", {"report0": {"side": "right"}}),
    ("double_free", "pointer + 16 expected", {"report0": {"pointer": ("object#0", 16)}}),
    ("double_free", "no G", {"slabdbg": None}),
    ("invalid_free", "a double free expected", {"report0": {"kind": "double_free"}}),
    ("handler_sigaction_uaf", "no G: the program's handler runs",
     {"slabdbg": None, "options": {"sample_rate": 0}}),
    ("handler_sigaction_null", "a report expected",
     {"reports": [dict(kind="use_after_free_write")]}),
    ("handler_signal_uaf", "no G: the program's handler runs", {"slabdbg": None}),
    ("handler_signal_null", "death by SIGSEGV expected", {"exit": ("signal", SIGSEGV)}),
    ("threads", "a clean worker expected", {"report0": {"found_by": "clean_worker"}}),
    ("threads", "the main thread's id expected", {"report0": {"free_pid": "stdout:pid"}}),
    ("continue_preload", "guard_continue off", {"options": {"guard_continue": 0}}),
    ("continue_preload", "two reports expected", {"reports_cut": 2}),
    ("continue_run", "exit 0 expected", {"exit": ("status", 0)}),
    ("continue_alternate", "guard_side right", {"options": {"guard_side": "right"}}),
    ("sample_uaf", "sampling off", {"options": {"sample_rate": 0}}),
    ("sample_uaf_rate100", "sampling off", {"options": {"sample_rate": 0}}),
    ("sample_uaf_corrupt_heap", "sampling off", {"options": {"sample_rate": 0}}),
    ("sample_uaf_rate100", "another cache expected", {"report0": {"cache": "kmalloc-96"}}),
    ("sample_usable", "sampling off", {"options": {"sample_rate": 0}}),
    ("sample_usable_small_pool", "a pool of 10 expected", {"prog": ["sample", "usable", "10"]}),
    ("sample_realloc", "sampling off", {"options": {"sample_rate": 0}}),
    ("sample_slack", "sampling off", {"options": {"sample_rate": 0}}),
    ("sample_workload_rate1", "sampling off", {"options": {"sample_rate": 0}}),
    ("sample_workload_default", "a report expected",
     {"reports": [dict(kind="use_after_free_write")]}),
    ("sample_off", "sampling on", {"options": {"sample_rate": 1}}),
    ("seed", "G on another cache", {"slabdbg": "G,kmalloc-512"}),
    ("seed", "another offset expected", {"report0": {"offset": 0x148}}),
    ("aligned_sampled", "1-byte alignment expected", {"stdout_has": ["misaligned=1 of"]}),
    ("aligned_guarded", "1-byte alignment expected", {"stdout_has": ["misaligned=1 of"]}),
    ("small_stack_thread", "no G", {"slabdbg": None}),
    ("fork", "the parent's pid expected", {"report0": {"pid": "stdout:parent"}}),
    ("fork", "no G on kmalloc-5120", {"slabdbg": G1024}),
    ("fork", "the churning thread expected", {"report0": {"found_by": "churn"}}),
    ("prod_double_free_not_head", "an invalid pointer expected",
     {"report0": {"kind": "invalid_pointer"}}),
    ("prod_double_free_thread", "one report fewer expected", {"reports_cut": 39}),
    ("prod_double_free_flushed", "G on every cache", {"slabdbg": "G"}),
    ("prod_double_free_slab_released", "foreign memory expected",
     {"report0": {"kind": "outside_slab"}}),
    ("prod_interior_frees", "a double free expected", {"report0": {"kind": "already_free"}}),
    ("prod_foreign_frees", "an invalid pointer expected",
     {"report0": {"kind": "invalid_pointer"}}),
    ("prod_huge_frees", "foreign memory expected", {"report0": {"kind": "outside_slab"}}),
    ("prod_huge_realloc_moved", "foreign memory expected", {"report0": {"kind": "outside_slab"}}),
    ("prod_realloc_freed", "the program run without its variant", {"prog": ["badfree_prod", "x"]}),
]


class Result:
    def __init__(self, returncode, stdout, stderr, reports, json_error=None):
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        self.reports = reports
        self.json_error = json_error


class Checks:
    def __init__(self):
        self.failures = []

    def ok(self, what, cond, detail=""):
        if not cond:
            self.failures.append("%s: %s" % (what, detail))

    def eq(self, what, actual, expected):
        self.ok(what, actual == expected, "got %r, expected %r" % (actual, expected))


def no_core():
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def read_json_reports(path):
    """The reports of a json= file, one per line: (reports, error or None)."""
    reports, err = [], None
    if os.path.exists(path):
        with open(path) as f:
            for line in f:
                try:
                    reports.append(json.loads(line))
                except ValueError as e:
                    err = "%s: %r" % (e, line[:200])
    return reports, err


class Context:
    def __init__(self, args):
        self.args = args
        os.makedirs(args.workdir, exist_ok=True)
        self.base_env = {k: v for k, v in os.environ.items()
                         if not k.startswith("SLABDBG") and k != "LD_PRELOAD"}

    def command(self, case):
        if case.get("seed"):
            return [self.args.seed]
        return [os.path.join(self.args.bindir, case["prog"][0])] + case["prog"][1:]

    def run_plain(self, prog):
        p = subprocess.run([os.path.join(self.args.bindir, prog[0])] + prog[1:],
                           env=self.base_env, capture_output=True, text=True, timeout=100,
                           preexec_fn=no_core)
        return Result(p.returncode, p.stdout, p.stderr, [])

    def run(self, name, case):
        jpath = os.path.join(self.args.workdir, name + ".json")
        if os.path.exists(jpath):
            os.unlink(jpath)
        env = dict(self.base_env)
        opts = ["json=" + jpath]
        opts += ["%s=%s" % (k, v) for k, v in case.get("options", {}).items()]
        env["SLABDBG_OPTIONS"] = ":".join(opts)
        cmd = self.command(case)
        if case.get("cli"):
            env["SLABDBG_LIB"] = self.args.lib
            pre = [self.args.cli, "run"]
            if case.get("slabdbg"):
                pre += ["-d", case["slabdbg"]]
            cmd = pre + ["--"] + cmd
        else:
            env["LD_PRELOAD"] = self.args.lib
            if case.get("slabdbg"):
                env["SLABDBG"] = case["slabdbg"]
        p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=100,
                           preexec_fn=no_core, errors="replace")
        reports, err = read_json_reports(jpath)
        return Result(p.returncode, p.stdout, p.stderr, reports, err)


def func_name(s):
    return s.split("+", 1)[0] if isinstance(s, str) else None


def resolve(value, res):
    """The number an expectation like "object#1" or "stdout:stray_tid" stands for."""
    if isinstance(value, str) and value.startswith("object#"):
        objs = re.findall(r"^object=(0x[0-9a-f]+)$", res.stdout, re.M)
        i = int(value[7:])
        return int(objs[i], 16) if i < len(objs) else None
    if isinstance(value, str) and value.startswith("stdout:"):
        v = stdout_value(res.stdout, value[7:])
        return int(v) if v is not None else None
    return value


def as_int(v):
    if isinstance(v, str):
        try:
            return int(v, 16) if v.startswith("0x") else int(v)
        except ValueError:
            return None
    return v


def check_report(i, rep, want, res, chk):
    where = "report %d" % i
    for key, exp in want.items():
        if key in ("alloc", "free"):
            got = rep.get(key)
            if exp is None:
                chk.ok("%s %s" % (where, key), got is None, "unexpected %s track %r" % (key, got))
            else:
                chk.eq("%s %s function" % (where, key),
                       func_name(got.get("function")) if isinstance(got, dict) else None, exp)
        elif key in ("alloc_pid", "free_pid"):
            track = rep.get(key[:-4])
            chk.eq("%s %s" % (where, key), track.get("pid") if isinstance(track, dict) else None,
                   resolve(exp, res))
        elif key == "found_by":
            fb = rep.get("found_by") or []
            chk.eq("%s found_by[0] function" % where,
                   func_name(fb[0].get("function")) if fb else None, exp)
        elif key == "object":
            chk.eq("%s object" % where, as_int(rep.get("object")), resolve(exp, res))
        elif key == "pointer":
            base = resolve(exp[0], res)
            chk.eq("%s pointer" % where, as_int(rep.get("pointer")),
                   base + exp[1] if base is not None else None)
        elif key == "pid":
            chk.eq("%s pid" % where, rep.get("pid"), resolve(exp, res))
        elif key == "reason":
            got = rep.get("reason")
            chk.ok("%s reason" % where, isinstance(got, str) and re.search(exp, got),
                   "%r does not match %r" % (got, exp))
        else:
            chk.eq("%s %s" % (where, key), rep.get(key), exp)
    # Where the access fell agrees with the object and the offset or distance.
    if rep.get("access") in ("read", "write"):
        addr, obj = as_int(rep.get("address")), as_int(rep.get("object"))
        size, side = rep.get("object_size"), rep.get("side")
        if side == "inside":
            calc = obj + rep.get("offset", -1) if obj is not None else None
        elif side == "right":
            calc = obj + size + rep.get("distance", -1) if obj is not None else None
        elif side == "left":
            calc = obj - rep.get("distance", -1) if obj is not None else None
        else:
            calc = "side %r" % side
        chk.eq("%s address from object and %s" % (where, side), addr, calc)
        chk.ok("%s found_by frames" % where, len(rep.get("found_by") or []) >= 2,
               "a stack of %d frames" % len(rep.get("found_by") or []))


def check(ctx, name, case):
    res = ctx.run(name, case)
    chk = Checks()
    kind, code = case["exit"]
    if kind == "signal":
        chk.eq("exit", res.returncode, -code)
    else:
        chk.eq("exit status", res.returncode, code)
    fails = re.findall(r"^FAIL: .*$", res.stdout, re.M)
    chk.ok("checks inside the program", not fails, "; ".join(fails[:5]))
    chk.ok("JSON lines", res.json_error is None, res.json_error)
    want_reports = case.get("reports", [])
    chk.eq("number of JSON reports", len(res.reports), len(want_reports))
    chk.eq("number of BUG lines", len(re.findall(r"^BUG ", res.stderr, re.M)), len(want_reports))
    for i, (rep, want) in enumerate(zip(res.reports, want_reports)):
        check_report(i, rep, want, res, chk)
    # Each text report ends with the plain-words summary and the explain hint.
    bugs = len(re.findall(r"^BUG ", res.stderr, re.M))
    chk.eq("explain hints", len(re.findall(r"^explain: slabdbg explain ", res.stderr, re.M)),
           bugs)
    chk.ok("summary lines", len(re.findall(r"^Summary: ", res.stderr, re.M)) >= bugs,
           "fewer 'Summary: ' lines than reports")
    for pat in case.get("text", []):
        pat = re.sub(r"\{(\w+)\}", lambda m: str(stdout_value(res.stdout, m.group(1))), pat)
        chk.ok("text", re.search(pat, res.stderr, re.M), "no match for %r" % pat)
    for pat in case.get("text_lacks", []):
        chk.ok("text", not re.search(pat, res.stderr, re.M), "unexpected match for %r" % pat)
    for s in case.get("stdout_has", []):
        chk.ok("stdout", s in res.stdout, "missing %r" % s)
    for s in case.get("stdout_lacks", []):
        chk.ok("stdout", s not in res.stdout, "unexpected %r" % s)
    if case.get("extra"):
        case["extra"](ctx, res, chk, case)
    return res, chk


def sabotaged(case, change):
    c = copy.deepcopy(case)
    for key, v in change.items():
        if key == "options":
            c.setdefault("options", {}).update(v)
        elif key == "report0":
            c["reports"][0].update(v)
        elif key == "reports_cut":
            c["reports"] = c["reports"][:v]
        else:
            c[key] = v
    return c


def show(res, chk):
    for f in chk.failures:
        print("  FAILED " + f)
    print("--- exit: %s" % res.returncode)
    print("--- stdout:\n" + res.stdout[-3000:])
    print("--- stderr:\n" + res.stderr[-6000:])
    for r in res.reports:
        print("--- JSON: " + json.dumps(r)[:1500])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bindir", required=True)
    ap.add_argument("--lib", required=True)
    ap.add_argument("--cli", required=True)
    ap.add_argument("--seed", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--selftest", action="store_true")
    ap.add_argument("--list", action="store_true")
    ap.add_argument("case", nargs="?")
    args = ap.parse_args()
    if args.list:
        print("\n".join(CASES))
        return 0
    ctx = Context(args)
    if args.selftest:
        bad = 0
        for name, what, change in SABOTAGE:
            res, chk = check(ctx, "selftest-" + name, sabotaged(CASES[name], change))
            if chk.failures:
                print("ok: %s with %s: rejected (%s)" % (name, what, chk.failures[0]))
            else:
                print("NOT REJECTED: %s with %s" % (name, what))
                bad += 1
        covered = {s[0] for s in SABOTAGE}
        for name in CASES:
            if name not in covered:
                print("NOT COVERED: %s has no sabotaged run" % name)
                bad += 1
        print("%d sabotaged runs, %d not rejected" % (len(SABOTAGE), bad))
        return 1 if bad else 0
    if args.case not in CASES:
        print("unknown case %r (--list)" % args.case)
        return 2
    res, chk = check(ctx, args.case, CASES[args.case])
    if chk.failures:
        print("FAIL %s: %d check(s) failed" % (args.case, len(chk.failures)))
        show(res, chk)
        return 1
    print("ok %s (%d report(s), exit %s)" % (args.case, len(res.reports), res.returncode))
    return 0


if __name__ == "__main__":
    sys.exit(main())
