#!/usr/bin/env python3
"""Fuzzes the two environment variables slabdbg reads.

    fuzz_options.py PROGRAM LIB [--runs N] [--seed S]

SLABDBG (the kernel's slub_debug syntax) and SLABDBG_OPTIONS (name=value
pairs) get random mutations of valid settings: tokens cut, repeated,
swapped, numbers out of range or of absurd length, delimiters doubled,
control bytes, non-ASCII, strings of tens of kilobytes.  Whatever they say,
the program (the stomp fuzzer's, doing correct heap work only) must run to
its end with exit 0; what slabdbg says about the settings is printable, one
line per problem, and bounded.
"""
import argparse
import os
import random
import shutil
import subprocess
import tempfile
import sys

FLAGS = list("FZPUTAOG-") + ["", ",", ";", "*", "kmalloc-", "kmalloc-64", "kmalloc-*", "kmem_cache",
                              "kmalloc-0", "kmalloc-99999999999999999999", "foo", "=", "\t", " "]
OPTIONS = ["sample_rate", "quarantine", "stack_depth", "json", "log", "stats", "fail_interval",
           "fail_times", "fail_probability", "guard_continue", "abort_on_error", "validate_signal",
           "traces_at_exit", "validate_at_exit", "guard_side", "help", "nosuch", ""]
VALUES = ["0", "1", "-1", "20000", "1M", "1G", "99999999999999999999999", "0x10", "abc", "",
          "=", ":", "1:", "%p", "%", "/dev/null", "/nonexistent/dir/file", "left", "right",
          "both", "18446744073709551616", "-9223372036854775809", "1e9", " 1", "\x01", "\x7f",
          "\u00e9\u00e8", "\xff"]
LOUD = {"T", "help"}  # settings that print a lot on purpose
MAX_LINES = 64
MAX_VALUE = 100000  # the kernel takes one environment string up to 128 KiB


def mutate(rng, s, alphabet):
    s = list(s)
    for _ in range(rng.randint(0, 4)):
        op = rng.randint(0, 5)
        if op == 0 and s:
            del s[rng.randrange(len(s))]
        elif op == 1:
            s.insert(rng.randint(0, len(s)), rng.choice(alphabet))
        elif op == 2 and s:
            s[rng.randrange(len(s))] = chr(rng.randint(1, 255))
        elif op == 3:
            s = s + s
        elif op == 4 and len(s) > 1:
            i, j = sorted(rng.sample(range(len(s)), 2))
            s = s[:i] + s[j:]
    return "".join(s)


def gen_slabdbg(rng):
    parts = [rng.choice(FLAGS) for _ in range(rng.randint(0, 6))]
    s = "".join(parts)
    if rng.random() < 0.1 and s:
        s = s * rng.randint(100, 3000)
    return mutate(rng, s, "FZPUTAOG,;*-k0123456789")[:MAX_VALUE]


def gen_options(rng):
    pairs = []
    for _ in range(rng.randint(0, 6)):
        name = rng.choice(OPTIONS)
        value = rng.choice(VALUES)
        if name in ("json", "log", "stats") and value.startswith("/dev") is False:
            value = "/dev/null" if rng.random() < 0.7 else value
        pairs.append(name + ("=" + value if rng.random() < 0.9 else ""))
    s = ":".join(pairs)
    if rng.random() < 0.1:
        s = (s + ":") * rng.randint(100, 2000)
    return mutate(rng, s, "=:,abcdefghijklmnopqrstuvwxyz_0123456789")[:MAX_VALUE]


def clean_env(s):
    # The environment cannot hold NUL; keep everything else.
    return s.replace("\0", "")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("program")
    ap.add_argument("lib")
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    args.program = os.path.abspath(args.program)
    args.lib = os.path.abspath(args.lib)
    scratch = tempfile.mkdtemp(prefix="slabdbg-fuzz-options-")
    failures = 0
    for run in range(args.runs):
        sd = clean_env(gen_slabdbg(rng))
        so = clean_env(gen_options(rng))
        env = {k: v for k, v in os.environ.items() if not k.startswith("SLABDBG")}
        env["LD_PRELOAD"] = args.lib
        env["SLABDBG"] = sd
        env["SLABDBG_OPTIONS"] = so
        shown = "SLABDBG=%r SLABDBG_OPTIONS=%r" % (sd[:200], so[:200])
        try:
            # log=, stats= and status_file= may name files: they land in a
            # directory of their own, never in the source tree
            p = subprocess.run([args.program, str(run + 1), "400", "0"], env=env, cwd=scratch,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        except subprocess.TimeoutExpired:
            failures += 1
            print("FAIL: run %d: hang; %s" % (run, shown))
            continue
        out = p.stdout.decode(errors="replace")
        err = p.stderr.decode("utf-8", errors="replace")
        problems = []
        if p.returncode != 0:
            problems.append("exit %d" % p.returncode)
        elif "done" not in out.split():
            problems.append("no 'done' line")
        loud = any(x in sd for x in ("T",)) or "help" in so or "traces_at_exit" in so
        said = [l for l in err.splitlines() if l.startswith("slabdbg")]
        if not loud and len(said) > MAX_LINES:
            problems.append("%d lines about the settings" % len(said))
        for l in said:
            if any(ord(c) < 32 and c != "\t" for c in l) or "\ufffd" in l:
                problems.append("unprintable bytes in %r" % l[:120])
                break
            if len(l) > 400:
                problems.append("a line of %d characters" % len(l))
                break
        if "BUG " in err and "A" not in sd:
            problems.append("a report from correct heap work: %s" % err[err.index("BUG "):][:200])
        if problems:
            failures += 1
            print("FAIL: run %d: %s; %s" % (run, "; ".join(problems), shown))
            for l in err.splitlines()[:5]:
                print("    " + l[:200])
    print("fuzz_options: %d runs, %d passed, %d failed" % (args.runs, args.runs - failures,
                                                            failures))
    shutil.rmtree(scratch, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
