#!/usr/bin/env python3
"""SLABDBG and SLABDBG_OPTIONS through the library, and the debug features
that are not reports: fault injection (A), trace (T), quarantine; and real
programs under SLABDBG=FZPU.

    env_checks.py --bindir DIR --lib libslabdbg.so --workdir DIR --srcdir DIR NAME

Each NAME is one ctest test; it prints what it checked and exits 0 when
everything held, 1 otherwise, 77 when a needed program is missing.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys

TIMEOUT = 30
ARGS = None
FAILURES = []
PASSED = [0]


def check(cond, what):
    if cond:
        PASSED[0] += 1
    else:
        FAILURES.append(what)
        print("FAIL: " + what)
    return cond


def workdir(name):
    d = os.path.join(ARGS.workdir, "env", name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    return d


def run(argv, slabdbg=None, options=None, preload=True, extra_env=None, stdin=None, cwd=None,
        sampling="sample_rate=0"):
    """Runs argv with a clean SLABDBG* environment; returns CompletedProcess."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLABDBG")}
    env.pop("LD_PRELOAD", None)
    if preload:
        env["LD_PRELOAD"] = ARGS.lib
    if slabdbg is not None:
        env["SLABDBG"] = slabdbg
    if options is not None:
        env["SLABDBG_OPTIONS"] = options
    # The guarded sampling pool takes random allocations; off (unless asked
    # for) so that where an object lands does not depend on chance.
    if sampling is not None:
        env["SLABDBG_OPTIONS"] = ((env["SLABDBG_OPTIONS"] + ":")
                                  if env.get("SLABDBG_OPTIONS") else "") + sampling
    if extra_env:
        env.update(extra_env)
    shown = " ".join("%s='%s'" % (k, env[k]) for k in ("LD_PRELOAD", "SLABDBG", "SLABDBG_OPTIONS")
                     if k in env)
    print("run: %s %s" % (shown, " ".join(argv)))
    try:
        return subprocess.run(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, errors="replace", timeout=TIMEOUT, stdin=stdin,
                              cwd=cwd)
    except subprocess.TimeoutExpired as e:
        check(False, "%s: timed out after %d s" % (argv[0], TIMEOUT))
        return subprocess.CompletedProcess(argv, -1, e.stdout or "", e.stderr or "")


def prog(name):
    return os.path.join(ARGS.bindir, name)


def facts(stdout):
    return dict(re.findall(r"^([A-Za-z0-9_]+)=(.*)$", stdout, re.M))


def warning_lines(stderr):
    return [l for l in stderr.splitlines() if l.startswith("slabdbg: ")]


# ---- SLABDBG -----------------------------------------------------------------------

PROBE_SIZES = ["8", "64", "96", "1000", "10000"]
PROBE_CACHES = ["kmalloc-8", "kmalloc-64", "kmalloc-96", "kmalloc-1024", "kmalloc-10240",
                "request"]
FULL = {"kmalloc-8": "ZP", "kmalloc-64": "ZP", "kmalloc-96": "ZP", "kmalloc-1024": "ZKP",
        "kmalloc-10240": "ZKP", "request": "ZP"}
NONE = {c: "-" for c in PROBE_CACHES}


def probe(slabdbg, want, label=None):
    """Runs probe_flags under SLABDBG=slabdbg and compares what each cache
    got with want (cache -> features).  Returns the completed process."""
    p = run([prog("probe_flags")] + PROBE_SIZES, slabdbg=slabdbg)
    check(p.returncode == 0, "probe_flags under SLABDBG=%r exited with %d" % (slabdbg,
                                                                             p.returncode))
    got = dict(l.split(" ", 1) for l in p.stdout.splitlines() if " " in l)
    for cache in PROBE_CACHES:
        check(got.get(cache) == want[cache],
              "SLABDBG=%r%s: %s has %r, expected %r" % (slabdbg, label or "", cache,
                                                        got.get(cache), want[cache]))
    check("BUG " not in p.stderr, "SLABDBG=%r: a report in %r" % (slabdbg, p.stderr[:300]))
    return p


def t_slabdbg_forms():
    # Which caches get which checks, for every documented form.
    probe(None, NONE, " (unset)")
    probe("FZPU", FULL)
    probe("", FULL, " (empty)")
    probe("fzpu", FULL)
    only1024 = dict(NONE, **{"kmalloc-1024": "ZKP"})
    probe("FZPU,kmalloc-1024", only1024)  # kmalloc-10240 must not match
    probe(",kmalloc-1024", only1024)
    probe("FZPU,kmalloc-10240", dict(NONE, **{"kmalloc-10240": "ZKP"}))
    probe("P,kmalloc-*,request", {c: "P" for c in PROBE_CACHES})
    probe("Z,kmalloc-64;P,kmalloc-*", dict({c: "P" for c in PROBE_CACHES},
                                            **{"kmalloc-64": "Z", "request": "-"}))
    probe("Z,kmalloc-1024;U,kmalloc-*", dict(NONE, **{"kmalloc-1024": "ZK"}))
    probe("FZP;-,kmalloc-8", dict(FULL, **{"kmalloc-8": "-"}))
    probe("ZP,request", dict(NONE, request="ZP"))


def t_letters_warned():
    # Unknown letters: one warning line each (not one per cache), the rest
    # applies.
    p = probe("FQZPxU", FULL)
    w = warning_lines(p.stderr)
    for letter in "Qx":
        line = "slabdbg: SLABDBG: option '%s' unknown. skipped" % letter
        check(w.count(line) == 1, "expected %r once, stderr warnings: %r" % (line, w))
    check(len(w) == 2, "expected exactly 2 warning lines, got %r" % w)


def t_misconfiguration():
    # A letter repeated 50 times: one line.  Bytes that are not printable
    # are escaped, never written raw.  A kmalloc cache that cannot exist is
    # said at start (before main), once.  An unwritable destination is said
    # at start.
    p = probe("F" + "Q" * 50 + "ZP", dict(FULL, **{"request": "ZP"}))
    w = warning_lines(p.stderr)
    check(w == ["slabdbg: SLABDBG: option 'Q' unknown. skipped"], "50 Q: %r" % w)
    p = run([prog("probe_flags")] + PROBE_SIZES, slabdbg="F\x01\x1b[31m\xffZ")
    check("\x1b" not in p.stderr and "\x01" not in p.stderr,
          "control bytes echoed raw: %r" % p.stderr[:300])
    check("slabdbg: SLABDBG: option '\\x1b' unknown. skipped" in p.stderr.splitlines(),
          "escaped letter missing: %r" % warning_lines(p.stderr))
    p = run([prog("probe_flags")] + PROBE_SIZES, slabdbg="F,kmalloc-99999")
    lines = p.stderr.splitlines()
    want = ("slabdbg: SLABDBG: there is no cache 'kmalloc-99999' (kmalloc sizes are listed "
            "by slabinfo); ignored")
    check(lines.count(want) == 1, "kmalloc-99999 not said once: %r" % lines)
    if want in lines and "probe_flags: end of main" in lines:
        check(lines.index(want) < lines.index("probe_flags: end of main"),
              "the impossible cache was said only at exit")
    d = workdir("misconfiguration")
    p = run([prog("probe_flags")] + PROBE_SIZES, slabdbg="FZPU",
            options="log=%s/no/such/dir/log:json=%s/no/x.json" % (d, d))
    w = warning_lines(p.stderr)
    check(any("log=" in l and "missing or not writable" in l and "reports go to stderr" in l
              for l in w), "unwritable log not said: %r" % w)
    check(any("json=" in l and "nothing will be written" in l for l in w),
          "unwritable json not said: %r" % w)


def t_secure_execution():
    # A setuid program run by an unprivileged user: T (which would dump its
    # freed secret), A (which would fail its allocations), file
    # destinations and guard_continue from the environment are ignored,
    # with one line saying so; reports show no object bytes.
    setpriv = shutil.which("setpriv")
    if os.geteuid() != 0 or not setpriv:
        print("SKIP: needs root and setpriv to make and run a setuid program")
        sys.exit(77)
    d = workdir("secure_execution")
    os.chmod(d, 0o755)
    for parent in (os.path.dirname(d), os.path.dirname(os.path.dirname(d))):
        os.chmod(parent, os.stat(parent).st_mode | 0o005)
    exe = os.path.join(d, "secret_holder")
    shutil.copy(prog("secret_holder"), exe)
    os.chown(exe, 0, 0)
    os.chmod(exe, 0o4755)
    lib = os.path.join(d, "libslabdbg.so")
    shutil.copy(ARGS.lib, lib)
    os.chmod(lib, 0o755)
    # LD_PRELOAD in a setuid program only takes a library from the trusted
    # directories with the setuid bit set; so the test preloads it the way
    # such a program would link it: through the environment of an
    # unprivileged run of a setuid binary, which the loader honours for
    # the standard paths only.  A copy in a standard directory is used.
    sysdir = "/usr/lib/x86_64-linux-gnu" if os.path.isdir("/usr/lib/x86_64-linux-gnu") else "/usr/lib"
    syslib = os.path.join(sysdir, "libslabdbg-securetest.so")
    shutil.copy(ARGS.lib, syslib)
    os.chmod(syslib, 0o4755)
    try:
        out_file = os.path.join(d, "log")
        argv = [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", exe]
        p = run(argv, slabdbg="T,kmalloc-64;A", preload=False,
                options="log=%s:guard_continue=1:fail_probability=100" % out_file,
                extra_env={"LD_PRELOAD": "libslabdbg-securetest.so"})
        check("allocations_ok=1" in p.stdout, "A applied in a setuid program: %r" % p.stdout)
        check("s3cr3t" not in p.stderr and "73 33 63 72 33 74" not in p.stderr,
              "the secret was disclosed: %r" % p.stderr[:400])
        check(not os.path.exists(out_file), "a file named by the caller was written")
        w = warning_lines(p.stderr)
        check(any(l.startswith("slabdbg: setuid/setgid program: ignoring") and " T" in l and
                  " A" in l and "file destinations" in l and "guard_continue" in l
                  for l in w), "no line about what was ignored: %r" % w)
        check(len([l for l in w if "setuid/setgid" in l]) == 1, "not one line: %r" % w)
        check("TRACE" not in p.stderr, "T traced: %r" % p.stderr[:300])
    finally:
        os.unlink(syslib)


def t_unknown_cache_warned():
    # A listed name that matches no cache: one warning, at exit.
    p = probe("FZPU,kmalloc-1024,nosuch_cache;P,other*",
              dict(NONE, **{"kmalloc-1024": "ZKP"}))
    lines = p.stderr.splitlines()
    for name in ("nosuch_cache", "other*"):
        line = "slabdbg: SLABDBG: no cache matched '%s'" % name
        check(lines.count(line) == 1, "expected %r once in %r" % (line, lines))
        if line in lines and "probe_flags: end of main" in lines:
            check(lines.index(line) > lines.index("probe_flags: end of main"),
                  "the warning about %s came before the end of main()" % name)
    check(len(warning_lines(p.stderr)) == 2, "expected exactly 2 warnings, got %r"
          % warning_lines(p.stderr))
    # Names that matched are not warned about, prefixes included.
    p = probe("FZPU,kmalloc-1024,kmalloc-6*", dict(NONE, **{"kmalloc-1024": "ZKP",
                                                            "kmalloc-64": "ZP"}))
    check(not warning_lines(p.stderr), "unexpected warnings %r" % warning_lines(p.stderr))


# ---- SLABDBG_OPTIONS ---------------------------------------------------------------------

def t_options_warned():
    d = workdir("options_warned")
    jpath = os.path.join(d, "r.json")
    opts = ("nosuch=1:json=%s:abort_on_error=maybe:quarantine=12X:stack_depth=0:novalue:"
            "validate_at_exit=2" % jpath)
    p = run([prog("write_after_free"), "start", "1"], slabdbg="FZPU", options=opts)
    w = warning_lines(p.stderr)
    expected = [
        "slabdbg: SLABDBG_OPTIONS: unknown option 'nosuch' ignored",
        "slabdbg: SLABDBG_OPTIONS: bad value in 'abort_on_error=maybe' ignored",
        "slabdbg: SLABDBG_OPTIONS: bad value in 'quarantine=12X' ignored",
        "slabdbg: SLABDBG_OPTIONS: 'novalue' has no value (name=value)",
        "slabdbg: SLABDBG_OPTIONS: bad value in 'validate_at_exit=2' ignored",
        "slabdbg: SLABDBG_OPTIONS: stack_depth must be 1 to 64; using 16",
    ]
    for line in expected:
        check(w.count(line) == 1, "expected warning %r once; warnings: %r" % (line, w))
    check(len(w) == len(expected), "expected %d warnings, got %d: %r" % (len(expected), len(w),
                                                                          w))
    # The valid options around the bad ones still apply: json written,
    # abort_on_error left at 0 (the program finishes), one report.
    check(p.returncode == 0 and "done" in p.stdout.splitlines(),
          "program did not finish (status %d)" % p.returncode)
    reports = open(jpath).read().splitlines() if os.path.exists(jpath) else []
    check(len(reports) == 1, "json: expected 1 report, got %d" % len(reports))
    if reports:
        j = json.loads(reports[0])
        check(j.get("reason") == "Poison overwritten", "json reason %r" % j.get("reason"))
        # stack_depth fell back to 16: the alloc stack is complete (main is in it).
        fns = [f["function"].split("+")[0] for f in j.get("alloc", {}).get("stack", [])]
        check("main" in fns, "alloc stack %r lacks main" % fns)


def t_options_help():
    table = open(os.path.join(ARGS.srcdir, "src", "base", "options_table.h")).read()
    names = re.findall(r"^\s*X\((\w+),\s*(\w+),", table, re.M)
    check(len(names) >= 10, "found only %d options in options_table.h" % len(names))
    p = run([prog("trace_prog")], options="help", sampling=None)
    check(p.returncode == 0, "program under SLABDBG_OPTIONS=help exited with %d" % p.returncode)
    check("traced=" in p.stdout, "program did not run normally after help")
    help_lines = p.stderr.splitlines()
    for name, typ in names:
        check(any(re.match(r"^\s+%s\s+%s\b" % (re.escape(name), typ), l) for l in help_lines),
              "help does not list option %s (%s)" % (name, typ))
    check(any(l.startswith("SLABDBG=") for l in help_lines), "help does not describe SLABDBG")
    check(any(l.startswith("SLABDBG_OPTIONS=") for l in help_lines),
          "help does not describe SLABDBG_OPTIONS")


# ---- A: fault injection ------------------------------------------------------------------

def fault(options, count=100):
    p = run([prog("fault_inject"), str(count), "50"], slabdbg="A,kmalloc-64", options=options)
    check(p.returncode == 0, "fault_inject exited with %d: %s" % (p.returncode, p.stderr[:300]))
    f = facts(p.stdout)
    failed = [int(x) for x in f.get("failed", "").split(",") if x]
    check(f.get("enomem") == "1", "a failed malloc did not set errno to ENOMEM")
    check(f.get("calls") == str(count), "fault_inject did not make its %d calls" % count)
    check("BUG " not in p.stderr, "a report under A: %r" % p.stderr[:300])
    return failed


def t_fault_interval():
    failed = fault("fail_interval=10")
    check(failed == list(range(10, 101, 10)),
          "fail_interval=10: failed calls %r, expected every 10th (10, 20, ... 100)" % failed)
    # Another class is not affected.
    p = run([prog("fault_inject"), "100", "100"], slabdbg="A,kmalloc-64",
            options="fail_interval=10")
    check(facts(p.stdout).get("failed") == "", "malloc(100) failed under A,kmalloc-64: %r"
          % facts(p.stdout).get("failed"))


def t_fault_times():
    failed = fault("fail_interval=10:fail_times=3")
    check(failed == [10, 20, 30], "fail_interval=10:fail_times=3: failed %r, expected "
          "[10, 20, 30]" % failed)
    failed = fault("fail_probability=100:fail_times=4")
    check(failed == [1, 2, 3, 4], "fail_probability=100:fail_times=4: failed %r, expected "
          "the first 4" % failed)
    failed = fault("fail_probability=0")
    check(failed == [], "fail_probability=0: failed %r, expected none" % failed)


def t_fault_interval_one():
    # "fail every Nth allocation (0: off)": N = 1 is every allocation.
    failed = fault("fail_interval=1:fail_times=5:fail_probability=0")
    check(failed == [1, 2, 3, 4, 5], "fail_interval=1:fail_times=5: failed %r, expected the "
          "first 5" % failed)


# ---- T: trace ------------------------------------------------------------------------

def t_trace():
    d = workdir("trace")
    jpath = os.path.join(d, "r.json")
    p = run([prog("trace_prog")], slabdbg="T,kmalloc-96", options="json=" + jpath)
    check(p.returncode == 0, "trace_prog exited with %d" % p.returncode)
    f = facts(p.stdout)
    traced, untraced = f.get("traced", "?"), f.get("untraced", "?")
    lines = p.stderr.splitlines()
    alloc = [i for i, l in enumerate(lines) if l.startswith("TRACE kmalloc-96 alloc %s " % traced)]
    free = [i for i, l in enumerate(lines) if l.startswith("TRACE kmalloc-96 free %s " % traced)]
    check(len(alloc) == 1, "expected one 'TRACE kmalloc-96 alloc %s' line, got %d"
          % (traced, len(alloc)))
    check(len(free) == 1, "expected one 'TRACE kmalloc-96 free %s' line, got %d"
          % (traced, len(free)))
    if alloc and free:
        check(alloc[0] < free[0], "the free trace came before the alloc trace")
        # The alloc trace is followed by its stack, which names the caller.
        stack = []
        for l in lines[alloc[0] + 1:]:
            if not l.startswith(" "):
                break
            stack.append(l.strip().split("+")[0])
        check("alloc_traced" in stack, "alloc trace stack %r lacks alloc_traced" % stack)
    others = [l for l in lines if l.startswith("TRACE ") and not l.startswith("TRACE kmalloc-96 ")]
    check(not others, "TRACE lines for other caches: %r" % others[:3])
    check(not any(untraced in l for l in lines if l.startswith("TRACE ")),
          "the kmalloc-208 object was traced")
    check("BUG " not in p.stderr, "a report under T")
    check(not os.path.exists(jpath) or not open(jpath).read().strip(),
          "trace lines were written as JSON reports")
    # Every cache traced: what slabdbg itself allocates at start (the
    # dynamic loader reading in libdw) is not traced, and does not deadlock
    # the start by reporting from inside the symbolizer's start.
    p = run([prog("fault_inject"), "1", "50"], slabdbg="T")
    check(p.returncode == 0, "fault_inject under T exited with %d" % p.returncode)
    lines = p.stderr.splitlines()
    traces = [i for i, l in enumerate(lines) if l.startswith("TRACE ")]
    for i in traces:
        frames = []
        for l in lines[i + 1:]:
            if l.startswith("TRACE "):
                break
            if l.startswith(" "):
                frames.append(l.strip().split("+")[0])
        check("main" in frames, "a trace under T not made by the program's main: %r"
              % lines[i:i + 4])
    # calloc, calloc, malloc, free; stdout's buffer; free, free.
    check(len(traces) == 7, "expected 7 TRACE lines under T, got %d" % len(traces))
    # Nor does A count slabdbg's own allocations: with every cache failing
    # once, the program's first call (a calloc) is the one that fails.
    p = run([prog("fault_inject"), "3", "50"], slabdbg="A",
            options="fail_probability=100:fail_times=1")
    check(p.returncode == 2 and not p.stdout,
          "A on every cache, fail_times=1: the program's first calloc did not fail "
          "(exit %d, %r)" % (p.returncode, p.stdout[:100]))


# ---- quarantine ----------------------------------------------------------------------

def t_quarantine_reuse():
    p = run([prog("quarantine_prog"), "reuse"], slabdbg="FZPU")
    f = facts(p.stdout)
    check(f.get("reused") == "1", "without quarantine the freed object should come straight "
          "back (reused=%s)" % f.get("reused"))
    check(f.get("batch_reused") not in (None, "0"), "without quarantine, no freed object of "
          "the batch came back (batch_reused=%s)" % f.get("batch_reused"))
    p = run([prog("quarantine_prog"), "reuse"], slabdbg="FZPU", options="quarantine=1M")
    f = facts(p.stdout)
    check(p.returncode == 0 and "done" in p.stdout, "quarantine_prog failed: %d" % p.returncode)
    check(f.get("reused") == "0", "quarantine=1M: the freed object came straight back")
    check(f.get("batch_reused") == "0", "quarantine=1M: %s freed objects of the batch came "
          "back" % f.get("batch_reused"))
    check(f.get("reports") == "0" and "BUG " not in p.stderr, "quarantine: a report")


# ---- real programs ---------------------------------------------------------------------

def compare_runs(name, argv, stdin_path=None, extra_env=None, reset=None):
    """Runs argv plainly and under SLABDBG=FZPU; same stdout, no report,
    and the library really served the program (stats file written)."""
    d = workdir(name)
    outs = []
    for label, preload in (("plain", False), ("slabdbg", True)):
        if reset:
            reset(d)
        stdin = open(stdin_path) if stdin_path else None
        stats = os.path.join(d, "stats.%p")
        p = run(argv, slabdbg="FZPU" if preload else None,
                options=("stats=%s:json=%s" % (stats, os.path.join(d, "r.json"))) if preload
                else None, preload=preload, extra_env=extra_env, stdin=stdin, cwd=d,
                sampling=None)
        if stdin:
            stdin.close()
        check(p.returncode == 0, "%s (%s) exited with %d: %s" % (name, label, p.returncode,
                                                                 p.stderr[-500:]))
        outs.append(p)
    plain, dbg = outs
    check(plain.stdout == dbg.stdout and plain.stdout.strip() != "",
          "%s: output differs under SLABDBG=FZPU" % name)
    check("BUG " not in dbg.stderr, "%s: a report under SLABDBG=FZPU: %s" % (name,
                                                                            dbg.stderr[:2000]))
    check(not warning_lines(dbg.stderr), "%s: warnings %r" % (name, warning_lines(dbg.stderr)))
    jpath = os.path.join(d, "r.json")
    check(not os.path.exists(jpath) or not open(jpath).read().strip(),
          "%s: JSON reports written" % name)
    stats = [f for f in os.listdir(d) if f.startswith("stats.")]
    check(len(stats) >= 1, "%s: no statistics file: slabdbg did not serve it" % name)
    return plain, dbg


def t_workload_python():
    py = sys.executable
    script = os.path.join(ARGS.srcdir, "tests", "debug", "workload.py")
    # Every Python object through malloc, and Python's own allocator on top.
    compare_runs("python_malloc", [py, script], extra_env={"PYTHONMALLOC": "malloc"})
    compare_runs("python_pymalloc", [py, script], extra_env={"PYTHONMALLOC": "pymalloc"})


def t_workload_sqlite():
    exe = shutil.which("sqlite3")
    if not exe:
        print("sqlite3 not installed: skipped")
        sys.exit(77)
    sql = os.path.join(ARGS.srcdir, "tests", "debug", "workload.sql")

    def reset(d):
        for f in os.listdir(d):
            if f.startswith("work.db"):
                os.unlink(os.path.join(d, f))
    plain, _ = compare_runs("sqlite", [exe, "work.db"], stdin_path=sql, reset=reset)
    check(plain.stdout.splitlines()[-1:] == ["ok"], "sqlite integrity_check did not say ok")


# ---- other SLABDBG_OPTIONS ------------------------------------------------------------

def fn_names(stack):
    return [f.get("function", "").split("+")[0] for f in stack]


def t_stack_depth():
    d = workdir("stack_depth")
    for depth, want in (("2", ["alloc_request", "main"]), ("1", ["alloc_request"])):
        jpath = os.path.join(d, "r%s.json" % depth)
        p = run([prog("write_after_free"), "start", "1"], slabdbg="FZPU",
                options="stack_depth=%s:json=%s" % (depth, jpath))
        lines = open(jpath).read().splitlines() if os.path.exists(jpath) else []
        check(len(lines) == 1, "stack_depth=%s: %d reports" % (depth, len(lines)))
        if not lines:
            continue
        j = json.loads(lines[0])
        got = fn_names(j.get("alloc", {}).get("stack", []))
        check(got == want, "stack_depth=%s: alloc stack %r, expected %r" % (depth, got, want))
        got = fn_names(j.get("free", {}).get("stack", []))
        want_free = ["free_request", "main"][:int(depth)]
        check(got == want_free, "stack_depth=%s: free stack %r, expected %r"
              % (depth, got, want_free))
        # The text shows the same frames under "Allocated in".
        err = p.stderr.splitlines()
        if any(l.startswith("Allocated in ") for l in err):
            i = [k for k, l in enumerate(err) if l.startswith("Allocated in ")][0]
            shown = []
            for l in err[i + 1:]:
                if not l.startswith(" "):
                    break
                shown.append(l.strip().split("+")[0])
            check(shown == want, "stack_depth=%s: text stack %r, expected %r"
                  % (depth, shown, want))
        else:
            check(False, "stack_depth=%s: no 'Allocated in' line" % depth)
    # The default keeps the whole (short) stack, down to _start.
    jpath = os.path.join(d, "default.json")
    run([prog("write_after_free"), "start", "1"], slabdbg="FZPU", options="json=" + jpath)
    lines = open(jpath).read().splitlines() if os.path.exists(jpath) else []
    if check(len(lines) == 1, "default stack_depth: %d reports" % len(lines)):
        got = fn_names(json.loads(lines[0]).get("alloc", {}).get("stack", []))
        check(got[:2] == ["alloc_request", "main"] and got[-1] == "_start",
              "default stack_depth: alloc stack %r" % got)


def t_log_file():
    d = workdir("log_file")
    jpath = os.path.join(d, "r.json")
    p = run([prog("write_after_free"), "middle", "4"], slabdbg="FZPU",
            options="log=%s/log.%%p:json=%s" % (d, jpath))
    check(p.returncode == 0 and "done" in p.stdout, "program failed: %d" % p.returncode)
    check("BUG " not in p.stderr and "FIX " not in p.stderr,
          "the report went to stderr as well: %r" % p.stderr[:300])
    logs = [f for f in os.listdir(d) if f.startswith("log.")]
    check(len(logs) == 1, "expected one log file, got %r" % logs)
    lines = open(jpath).read().splitlines() if os.path.exists(jpath) else []
    check(len(lines) == 1, "json: %d reports" % len(lines))
    if logs and lines:
        pid = json.loads(lines[0]).get("pid")
        check(logs[0] == "log.%s" % pid, "log file %s, expected log.%s (%%p = pid)"
              % (logs[0], pid))
        text = open(os.path.join(d, logs[0])).read().splitlines()
        check("BUG kmalloc-256 (Not tainted): Poison overwritten" in text,
              "log file lacks the BUG header: %r" % text[:3])
        check(any(l.startswith("FIX kmalloc-256: Restoring Poison ") for l in text),
              "log file lacks the FIX line")
        check(any(l.startswith("Allocated in alloc_request+") for l in text),
              "log file lacks 'Allocated in alloc_request'")


def t_validate_signal():
    d = workdir("validate_signal")
    jpath = os.path.join(d, "r.json")
    sig = "10"  # SIGUSR1
    p = run([prog("signal_validate"), sig], slabdbg="FZPU",
            options="validate_signal=%s:json=%s" % (sig, jpath))
    check(p.returncode == 0, "signal_validate exited with %d" % p.returncode)
    f = facts(p.stdout)
    check(f.get("reports") == "2", "reports=%s after two signals, expected 2"
          % f.get("reports"))
    check("slabdbg: validate: 1 problem(s) found" in p.stderr.splitlines(),
          "no 'slabdbg: validate: 1 problem(s) found' line")
    lines = open(jpath).read().splitlines() if os.path.exists(jpath) else []
    check(len(lines) == 2, "json: %d reports, expected 2" % len(lines))
    if len(lines) == 2:
        check(json.loads(lines[1]).get("object") == f.get("object2"),
              "the second report is not about the second object")
        j = json.loads(lines[0])
        for key, want in (("kind", "overwritten"), ("what", "Poison"), ("offset", 50),
                          ("first_byte", 0x22), ("cache", "kmalloc-512"),
                          ("object", f.get("object"))):
            check(j.get(key) == want, "json %s is %r, expected %r" % (key, j.get(key), want))
        check(fn_names([j.get("alloc", {})]) == ["alloc_request"], "alloc track %r"
              % j.get("alloc", {}).get("function"))
        check(fn_names([j.get("free", {})]) == ["free_request"], "free track %r"
              % j.get("free", {}).get("function"))


def t_traces_at_exit():
    p = run([prog("leak_prog")], slabdbg="FZPU", options="traces_at_exit=1")
    check(p.returncode == 0 and "done" in p.stdout, "leak_prog failed: %d" % p.returncode)
    lines = p.stderr.splitlines()
    check("# kmalloc-320 alloc_traces" in lines, "no '# kmalloc-320 alloc_traces' section")
    if "# kmalloc-320 alloc_traces" in lines:
        sec = []
        for l in lines[lines.index("# kmalloc-320 alloc_traces") + 1:]:
            if l.startswith("# "):
                break
            sec.append(l)
        counts = {}
        for l in sec:
            m = re.match(r"^\s*(\d+) (\w+)\+", l)
            if m:
                counts[m.group(2)] = int(m.group(1))
        check(counts.get("leak_site") == 3, "leak_site count %r, expected 3 (%r)"
              % (counts.get("leak_site"), counts))
        check(counts.get("other_site") == 1, "other_site count %r, expected 1"
              % counts.get("other_site"))
    check("BUG " not in p.stderr, "a report: %r" % p.stderr[:300])


def t_descriptors():
    # A correct program sees the descriptors it would see without slabdbg,
    # in every mode (the stack unwinder opens nothing; sampling, guard
    # mode and the debug checks neither).
    base = run([prog("fd_list")], preload=False)
    want = facts(base.stdout)
    check(want.get("fds") == "0,1,2", "without slabdbg fd_list sees %r" % want.get("fds"))
    for slabdbg, options in ((None, None), ("FZPU", None), ("U", None), ("G", None),
                             (None, "sample_rate=1")):
        p = run([prog("fd_list")], slabdbg=slabdbg, options=options,
                sampling=None if options else "sample_rate=0")
        got = facts(p.stdout)
        for key in ("fds", "inheritable", "next_open"):
            check(got.get(key) == want.get(key), "SLABDBG=%s %s: %s=%r, without slabdbg %r"
                  % (slabdbg, options or "", key, got.get(key), want.get(key)))
        check("BUG " not in p.stderr, "a report from fd_list's correct work")
    # After a report the symbolizer keeps files open: above the low numbers,
    # close-on-exec, and the program's next open() is what it would be.
    p = run([prog("fd_list"), "report"], slabdbg="FZPU")
    got = facts(p.stdout)
    check("BUG " in p.stderr, "no report of the overflow")
    extra = [int(x) for x in got.get("fds", "").split(",") if x and int(x) > 2]
    check(all(x >= 256 for x in extra), "descriptors slabdbg opened in the low numbers: %r"
          % extra)
    check(got.get("inheritable") == "0,1,2", "descriptors a child would inherit: %r"
          % got.get("inheritable"))
    check(got.get("next_open") == "3", "the next open() after a report returned %r"
          % got.get("next_open"))


def t_map_pressure():
    # Guard mode near vm.max_map_count: the program has taken all but 200
    # entries of its memory map; guarded objects leave it (and the heap)
    # its room, so every malloc succeeds, and it is said once.
    for slabdbg in ("G", "G,kmalloc-64", "FZPUG"):
        p = run([prog("map_pressure")], slabdbg=slabdbg)
        f = facts(p.stdout)
        check(p.returncode == 0 and "done" in p.stdout.split(),
              "SLABDBG=%s: map_pressure exited %d" % (slabdbg, p.returncode))
        check(f.get("failed") == "0", "SLABDBG=%s: %s of %s mallocs failed near the map limit"
              % (slabdbg, f.get("failed"), f.get("allocs")))
        said = [l for l in p.stderr.splitlines() if l.startswith("slabdbg: guard pages")]
        check(len(said) == 1, "SLABDBG=%s: %d lines about guard pages, expected one: %r"
              % (slabdbg, len(said), said[:3]))
        check("BUG " not in p.stderr, "SLABDBG=%s: a report near the map limit" % slabdbg)


# ---- verbose, color, the summary block, JSON strings --------------------------------------

def t_verbose():
    d = workdir("verbose")
    jpath = os.path.join(d, "r.json")
    p = run([prog("write_after_free"), "middle", "4"], slabdbg="FZPU",
            options="verbose=1:json=%s" % jpath)
    lines = p.stderr.splitlines()
    check(p.returncode == 0 and "done" in p.stdout, "program failed: %d" % p.returncode)
    first = lines[0] if lines else ""
    check(re.match(r"^slabdbg \d+\.\d+\.\d+: pid %d \(write_after_free\); SLABDBG=FZPU: "
                   r"FZPU on kmalloc-8\.\.kmalloc-\d+; " % p_pid(p, jpath), first) is not None,
          "banner: %r" % first)
    check("; sampling off; reports to stderr; JSON to %s" % jpath in first,
          "banner does not say where reports go: %r" % first)
    last = lines[-1] if lines else ""
    check(re.match(r"^slabdbg: pid \d+ \(write_after_free\) exits: 1 report \(1 overwritten\) "
                   r"in stderr; JSON in %s$" % re.escape(jpath), last) is not None,
          "exit line: %r" % last)
    # Without flags: the banner says so and the sampling rate; a clean run
    # says "no reports"; without verbose, neither line.
    p = run([prog("clean_workload")], options="verbose=1", sampling="sample_rate=5000")
    lines = p.stderr.splitlines()
    check(len(lines) == 2, "clean run, verbose: %r" % lines)
    check(bool(lines) and "no debug flags (SLABDBG unset); sampling 1 in 5000 allocations "
          "(127 slots); reports to stderr" in lines[0], "banner without flags: %r" % lines[:1])
    check(bool(lines) and lines[-1].endswith(") exits: no reports"), "exit line: %r" % lines)
    p = run([prog("clean_workload")], slabdbg="FZPU")
    check(p.stderr == "", "without verbose: %r" % p.stderr[:200])
    # Per-cache flags in runs.
    p = run([prog("clean_workload")], slabdbg="P;FZ,kmalloc-64", options="verbose=1")
    first = p.stderr.splitlines()[0] if p.stderr else ""
    check("P on kmalloc-8..kmalloc-48, FZ on kmalloc-64, P on kmalloc-80.." in first,
          "per-cache flags: %r" % first)


def p_pid(p, jpath):
    """The pid of the run whose JSON report is in jpath."""
    try:
        return json.loads(open(jpath).read().splitlines()[0])["pid"]
    except (OSError, IndexError, ValueError, KeyError):
        return -1


def t_color():
    esc = "\x1b["
    p = run([prog("write_after_free"), "middle", "4"], slabdbg="FZPU", options="color=always")
    check("\x1b[1;31mBUG kmalloc-256 (Not tainted): Poison overwritten\x1b[0m" in p.stderr,
          "color=always: no red BUG line: %r" % p.stderr[:200])
    check("\x1b[32mFIX kmalloc-256: Restoring Poison " in p.stderr,
          "color=always: no green FIX line")
    for opts in ("color=auto", "color=never", None):
        p = run([prog("write_after_free"), "middle", "4"], slabdbg="FZPU", options=opts)
        check("BUG kmalloc-256" in p.stderr and esc not in p.stderr,
              "%s, stderr not a terminal: colour or no report: %r" % (opts, p.stderr[:120]))
    # A terminal: color=auto colours, color=never does not.
    for opts, want in (("color=auto", True), ("color=never", False)):
        out = run_on_tty([prog("write_after_free"), "middle", "4"], "FZPU", opts)
        check(("\x1b[1;31mBUG " in out) == want, "%s on a terminal: %r" % (opts, out[:160]))
    p = run([prog("clean_workload")], options="color=bright")
    check(warning_lines(p.stderr) == ["slabdbg: SLABDBG_OPTIONS: color must be auto, always "
                                      "or never; using auto"],
          "color=bright: %r" % p.stderr)


def run_on_tty(argv, slabdbg, options):
    """Runs argv with stderr (and stdout) on a pseudo-terminal; returns what
    it wrote there."""
    import pty
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLABDBG")}
    env.update(LD_PRELOAD=ARGS.lib, SLABDBG=slabdbg,
               SLABDBG_OPTIONS=options + ":sample_rate=0")
    master, slave = pty.openpty()
    proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=slave, stderr=slave)
    os.close(slave)
    out = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    proc.wait(timeout=TIMEOUT)
    os.close(master)
    return out.decode("utf-8", "replace")


def t_json_escapes():
    d = workdir("json_escapes")
    jpath = os.path.join(d, "r.json")
    p = run([prog("odd_names")], slabdbg="FZPU", options="json=%s" % jpath)
    check(p.returncode == 0 and "reports=1" in p.stdout, "odd_names: %d %r"
          % (p.returncode, p.stdout))
    raw = open(jpath, "rb").read() if os.path.exists(jpath) else b""
    check(raw.count(b"\n") == 1, "json: expected one line, got %r" % raw[:200])
    try:
        j = json.loads(raw.decode("utf-8"))  # strict: the line must be UTF-8
    except ValueError as e:
        check(False, "the JSON line is not valid UTF-8 JSON: %s: %r" % (e, raw[:200]))
        return
    want = "odd\x01\"\\\ufffd\ufffd(\ufffd\ufffd\ufffd\ufffd\ufffd\u20ac-name"
    check(j.get("cache") == want, "cache %r, expected %r" % (j.get("cache"), want))
    check(j.get("kind") == "already_free", "kind %r" % j.get("kind"))
    check(b"\\u0001" in raw and b"\\ufffd" in raw, "escapes not written as \\u: %r" % raw[:120])
    check(all(b >= 0x20 for b in raw.rstrip(b"\n")), "a raw control byte in the JSON line")


def t_summary_hint():
    # Reports to a file: the hint names it.
    d = workdir("summary_hint")
    p = run([prog("write_after_free"), "middle", "4"], slabdbg="FZPU",
            options="log=%s/log.%%p" % d)
    logs = [f for f in os.listdir(d) if f.startswith("log.")]
    check(len(logs) == 1, "expected one log file, got %r" % logs)
    if logs:
        path = os.path.join(d, logs[0])
        text = open(path).read().splitlines()
        check("explain: slabdbg explain %s" % path in text, "hint does not name %s: %r"
              % (path, [l for l in text if l.startswith("explain")]))
    # Every kind of the tests has the block: the guard and cache kinds too.
    for argv, slabdbg in (([prog("double_free")], "FZPU"),
                          ([prog("invalid_free_interior")], "FZPU"),
                          ([prog("foreign_free"), "static"], "FZPU"),
                          ([prog("right_redzone_overflow")], "FZPU"),
                          ([prog("left_redzone_underflow")], "FZPU"),
                          ([prog("kmalloc_redzone_overflow")], "FZPU")):
        p = run(argv, slabdbg=slabdbg)
        lines = p.stderr.splitlines()
        fix = [i for i, l in enumerate(lines) if l.startswith("FIX ")]
        check(len(fix) == 1, "%s: %d FIX lines" % (argv, len(fix)))
        if fix:
            after = lines[fix[0] + 1:]
            n = 0
            while n < len(after) and after[n].startswith("Summary: "):
                n += 1
            check(n >= 1 and n < len(after) and after[n] == "explain: slabdbg explain <this log>",
                  "%s: summary block after FIX: %r" % (argv, after[:4]))


TESTS = {name[2:]: fn for name, fn in globals().items() if name.startswith("t_")}


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--bindir", required=True)
    ap.add_argument("--lib", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--srcdir", required=True)
    ap.add_argument("name", choices=sorted(TESTS))
    ARGS = ap.parse_args()
    TESTS[ARGS.name]()
    print("%s: %d check(s) passed, %d failed" % (ARGS.name, PASSED[0], len(FAILURES)))
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
