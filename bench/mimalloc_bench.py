#!/usr/bin/env python3
"""The standard allocator benchmark suite (daanx/mimalloc-bench) as a
cross-check of bench/run.py: its programs, run with the arguments of its
bench.sh for a given thread count, under glibc, jemalloc, mimalloc,
tcmalloc, slabdbg and slabdbg without sampling, in one run.

mimalloc-bench is not part of this repository: fetch and build it beside
the project (its shbench sources are downloaded separately by its own
scripts; without them drop the two sh*bench targets from its CMakeLists):

    git clone https://github.com/daanx/mimalloc-bench ../mimalloc-bench
    cmake -S ../mimalloc-bench/bench -B ../mimalloc-bench/out/bench -DCMAKE_BUILD_TYPE=Release
    cmake --build ../mimalloc-bench/out/bench -j2
    python3 bench/mimalloc_bench.py --dir ../mimalloc-bench/out/bench [--reps 5] [--procs 2]

Runs are interleaved as in bench/run.py: per benchmark and repetition every
allocator runs once, the order rotating between repetitions.  A cell is
the median over repetitions of the ratio of that run to the glibc run of
the same repetition (time, and peak RSS in the second table), so a drift
of the machine between repetitions cancels out.
"""

import argparse
import atexit
import os
import re
import shutil
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run as runpy  # noqa: E402  (bench/run.py: formatting, peers)

LIBDIR = "/usr/lib/x86_64-linux-gnu"
BASE_ENV = dict(os.environ)
PEERS = [
    ("jemalloc", "libjemalloc.so.2"),
    ("mimalloc", "libmimalloc.so.2"),
    ("tcmalloc", "libtcmalloc_minimal.so.4"),
]


def suite(procs, bench_src):
    """(name, argv) of the benchmarks, with bench.sh's arguments.  Those
    that run for a fixed time count as bench.sh counts them (relative_time)."""
    return [
        ("cfrac", ["cfrac", "17545186520507317056371138836327483792789528"]),
        ("espresso", ["espresso", os.path.join(bench_src, "espresso", "largest.espresso")]),
        # barnes reads its input from stdin
        ("barnes", ["/bin/sh", "-c", 'exec "$0" < "$1"', "barnes",
                    os.path.join(bench_src, "barnes", "input")]),
        ("larsonN", ["larson", "5", "8", "1000", "5000", "100", "4141", str(procs)]),
        ("larsonN-sized", ["larson-sized", "5", "8", "1000", "5000", "100", "4141", str(procs)]),
        ("mstressN", ["mstress", str(procs), "50", "25"]),
        ("rptestN", ["rptest", str(procs), "0", "1", "2", "500", "1000", "100", "8", "16000"]),
        ("xmalloc-testN", ["xmalloc-test", "-w", str(procs), "-t", "5", "-s", "64"]),
        ("alloc-test1", ["alloc-test", "1"]),
        ("alloc-testN", ["alloc-test", str(min(procs, 16))]),
        ("cache-scratch1", ["cache-scratch", "1", "1000", "1", "2000000", str(procs)]),
        ("cache-scratchN", ["cache-scratch", str(procs), "1000", "1", "2000000", str(procs)]),
        ("cache-thrash1", ["cache-thrash", "1", "1000", "1", "2000000", str(procs)]),
        ("cache-thrashN", ["cache-thrash", str(procs), "1000", "1", "2000000", str(procs)]),
        ("glibc-simple", ["glibc-simple"]),
        ("glibc-thread", ["glibc-thread", str(procs)]),
        ("malloc-large", ["malloc-large"]),
    ]


def relative_time(name, out):
    """bench.sh's time of the benchmarks that run for a fixed time and report
    a throughput (None: the wall time counts)."""
    m = None
    if name.startswith("larson"):
        m = re.search(r" time: ([0-9.]+)", out)
        return float(m.group(1)) if m else 0.0
    if name.startswith("rptest"):
        m = re.search(r"\.\.\.([0-9]+) memory ops", out)
        return 2000000.0 / int(m.group(1)) if m and int(m.group(1)) else 0.0
    if name.startswith("xmalloc"):
        m = re.search(r"rtime: ([0-9.]+)", out)
        return float(m.group(1)) if m else 0.0
    if name == "glibc-thread":
        m = re.match(r"\s*([0-9.]+)", out)
        return 1e9 / float(m.group(1)) if m and float(m.group(1)) else 0.0
    return None


def run_one(name, argv, env, launcher, timeout):
    """(time in seconds, peak RSS KiB) of one run, or (None, reason)."""
    res = runpy.run_once(argv, env, BASE_ENV, timeout, launcher)
    if not res.ok and res.status != "no output":
        return None, res.status
    t = relative_time(name, res.stdout + res.stderr)
    if t == 0.0:
        return None, "no throughput in its output"
    return (res.time if t is None else t, res.rss_kib), ""


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dir", required=True, help="mimalloc-bench's build of bench/ (out/bench)")
    ap.add_argument("--src", help="mimalloc-bench's bench/ sources (default: DIR/../../bench)")
    ap.add_argument("--procs", type=int, default=2, help="threads of the N benchmarks (default 2)")
    ap.add_argument("--reps", type=int, default=5, help="repetitions (default 5)")
    ap.add_argument("--only", help="comma-separated benchmarks")
    ap.add_argument("--allocators", help="comma-separated subset of the columns")
    ap.add_argument("--slabdbg", default=os.path.join(runpy.REPO_DIR, "build", "libslabdbg.so"))
    ap.add_argument("--env", action="append", default=[], metavar="K=V",
                    help="environment of the slabdbg runs (repeatable)")
    ap.add_argument("--timeout", type=float, default=300.0)
    ap.add_argument("--markdown", action="store_true")
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()

    bdir = os.path.abspath(args.dir)
    src = os.path.abspath(args.src or os.path.join(bdir, "..", "..", "bench"))
    extra = dict(runpy.parse_kv(args.env, "--env"))
    allocs = [("glibc", {})]
    for name, lib in PEERS:
        path = os.path.join(LIBDIR, lib)
        if os.path.exists(path):
            allocs.append((name, {"LD_PRELOAD": path}))
        else:
            print("%s: %s missing (scripts/deps.sh --bench)" % (name, path), file=sys.stderr)
    sl = os.path.abspath(args.slabdbg)
    allocs.append(("slabdbg", runpy.merge_env({"LD_PRELOAD": sl}, extra)))
    allocs.append(("slabdbg-nosample",
                   runpy.merge_env(runpy.merge_env({"LD_PRELOAD": sl}, extra),
                                   {"SLABDBG_OPTIONS": "sample_rate=0"})))
    if args.allocators:
        keep = set(args.allocators.split(",")) | {"glibc"}
        allocs = [a for a in allocs if a[0] in keep]
    benches = suite(args.procs, src)
    if args.only:
        keep = args.only.split(",")
        benches = [b for b in benches if b[0] in keep]

    for k in ("LD_PRELOAD", "SLABDBG", "SLABDBG_OPTIONS"):
        BASE_ENV.pop(k, None)
    # Some benchmarks (rptest) write files into their working directory:
    # they run in a scratch one, removed at the end.
    scratch = tempfile.mkdtemp(prefix="mimalloc-bench-")
    atexit.register(shutil.rmtree, scratch, True)
    os.chdir(scratch)
    launcher = None
    for d in (os.path.dirname(sl), os.path.join(runpy.REPO_DIR, "build")):
        p = os.path.join(d, "bench", "bench_launch")
        if not launcher and os.access(p, os.X_OK):
            launcher = p
    if not launcher:
        print("bench_launch is not built: peak RSS includes the runner's own", file=sys.stderr)
    names = [a[0] for a in allocs]
    rows_t, rows_m, per_alloc_t, per_alloc_m = [], [], {n: [] for n in names}, {n: [] for n in names}
    for bname, argv in benches:
        prog = 3 if argv[0] == "/bin/sh" else 0
        argv = argv[:prog] + [os.path.join(bdir, argv[prog])] + argv[prog + 1:]
        if not os.path.exists(argv[prog]):
            print("%s: %s not built" % (bname, argv[prog]), file=sys.stderr)
            continue
        runs = {n: [] for n in names}  # per repetition: (t, rss) or None
        for rep in range(args.reps):
            order = allocs[rep % len(allocs):] + allocs[:rep % len(allocs)]
            for name, env in order:
                res, why = run_one(bname, argv, env, launcher, args.timeout)
                if res is None:
                    print("%s under %s: %s" % (bname, name, why), file=sys.stderr)
                elif args.verbose:
                    print("%s %s rep %d: %.3fs %dK" % (bname, name, rep, res[0], res[1]),
                          file=sys.stderr)
                runs[name].append(res)
        row_t, row_m = [bname], [bname]
        for name in names:
            rt, rm = [], []
            for g, r in zip(runs["glibc"], runs[name]):
                if g and r:
                    rt.append(r[0] / g[0])
                    rm.append(r[1] / g[1])
            if name == "glibc":
                ts = [r[0] for r in runs[name] if r]
                ms = [r[1] for r in runs[name] if r]
                row_t.append(runpy.fmt_time(statistics.median(ts)) + "s" if ts else "FAIL")
                row_m.append(runpy.fmt_rss(statistics.median(ms)) if ms else "FAIL")
                continue
            if len(rt) < len(runs[name]) or not rt:
                row_t.append("FAIL")
                row_m.append("FAIL")
                continue
            mt, mm = statistics.median(rt), statistics.median(rm)
            per_alloc_t[name].append(mt)
            per_alloc_m[name].append(mm)
            row_t.append(runpy.fmt_ratio(mt))
            row_m.append(runpy.fmt_ratio(mm))
        rows_t.append(row_t)
        rows_m.append(row_m)
        print(" ".join(row_t), file=sys.stderr)
    for rows, per in ((rows_t, per_alloc_t), (rows_m, per_alloc_m)):
        g = ["geomean (%d)" % len(rows), "1.00"]
        for name in names[1:]:
            xs = per[name]
            g.append(runpy.fmt_ratio(runpy.geomean(xs)) if xs and len(xs) == len(rows) else "-")
        rows.append(g)
    header = ["benchmark"] + names
    print("mimalloc-bench, %d threads, %d interleaved repetitions; median of per-repetition "
          "ratios to glibc (glibc column: its median)" % (args.procs, args.reps))
    print("\ntime\n" + runpy.render(rows_t, header, args.markdown))
    print("\npeak RSS\n" + runpy.render(rows_m, header, args.markdown))


if __name__ == "__main__":
    main()
