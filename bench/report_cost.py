#!/usr/bin/env python3
"""The cost of one report: wall time and peak RSS a report adds to a process.

    python3 bench/report_cost.py [--build-dir DIR] [--slabdbg LIB] [--reps 5] [--markdown]

workloads/report_bug.c writes the byte just past the end of a malloc(50)
(`write`), or does nothing wrong (`none`).  Each configuration runs both,
--reps times each, under LD_PRELOAD=libslabdbg.so with the report going to
a file (SLABDBG_OPTIONS=log=FILE, so that a terminal's speed does not
count); the extra cost of the report is the median of the runs with the
bug minus the median of the runs without, for the wall time and the peak
RSS (ru_maxrss of the child, as /usr/bin/time -f %M reports it, through
bench_launch).

Configurations: G (guard mode on every cache), FZPU (SLUB's debugging)
and sampling (sample_rate=1; the program takes a sampled object).  A run must produce
exactly one report for the configuration to count; the text report's
first line is checked.

Standard library only.
"""

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_DIR = os.path.dirname(BENCH_DIR)

CONFIGS = [
    ("G", {"SLABDBG": "G"}, {"sample_rate": "0"}),
    ("FZPU", {"SLABDBG": "FZPU"}, {"sample_rate": "0"}),
    ("sampling", {}, {"sample_rate": "1"}),
]


def run_once(launch, prog, mode, lib, env_extra, options, logdir):
    """One run through bench_launch (the peak RSS of a child of this large
    Python process would start at Python's own: see tools/launch.c)."""
    log = os.path.join(logdir, "report-%s.log" % mode)
    result = os.path.join(logdir, "result")
    for f in (log, result):
        if os.path.exists(f):
            os.unlink(f)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLABDBG")}
    child = dict(env_extra)
    child["LD_PRELOAD"] = lib
    child["SLABDBG_OPTIONS"] = ":".join(["log=" + log] +
                                        ["%s=%s" % kv for kv in options.items()])
    cmd = [launch, "-o", result]
    for k, v in child.items():
        cmd += ["-e", "%s=%s" % (k, v)]
    subprocess.run(cmd + ["--", prog, mode], env=env, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, check=False)
    fields = dict(kv.split("=", 1) for kv in open(result).read().split())
    text = open(log).read() if os.path.exists(log) else ""
    bugs = sum(1 for line in text.splitlines() if line.startswith("BUG "))
    return float(fields["wall_s"]), int(fields["maxrss_kib"]), bugs


def measure(launch, prog, lib, env_extra, options, reps):
    with tempfile.TemporaryDirectory(prefix="report_cost.") as d:
        out = {}
        for mode in ("none", "write"):
            walls, rss, counts = [], [], []
            for _ in range(reps):
                w, r, n = run_once(launch, prog, mode, lib, env_extra, options, d)
                walls.append(w)
                rss.append(r)
                counts.append(n)
            out[mode] = (statistics.median(walls), statistics.median(rss), counts)
        return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build-dir", default=os.path.join(REPO_DIR, "build"))
    ap.add_argument("--slabdbg", help="libslabdbg.so (default <build-dir>/libslabdbg.so)")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--markdown", action="store_true")
    args = ap.parse_args()
    lib = os.path.abspath(args.slabdbg or os.path.join(args.build_dir, "libslabdbg.so"))
    prog = os.path.join(args.build_dir, "bench", "bench_report_bug")
    launch = os.path.join(args.build_dir, "bench", "bench_launch")
    for f in (lib, prog, launch):
        if not os.path.exists(f):
            sys.exit("report_cost.py: %s is missing (build first)" % f)
    rows, bad = [], 0
    for name, env_extra, options in CONFIGS:
        m = measure(launch, prog, lib, env_extra, options, args.reps)
        (w0, r0, c0), (w1, r1, c1) = m["none"], m["write"]
        ok = all(c == 0 for c in c0) and all(c == 1 for c in c1)
        bad += not ok
        rows.append((name, w1 - w0, (r1 - r0) / 1024.0, w0, r0 / 1024.0, ok, c0 + c1))
    if args.markdown:
        print("| configuration | report: extra time | report: extra peak RSS "
              "| without a bug: time, peak RSS |")
        print("| --- | --- | --- | --- |")
        for name, dt, drss, w0, r0, ok, _ in rows:
            print("| %s | %.0f ms | %.1f MiB | %.0f ms, %.1f MiB |%s"
                  % (name, dt * 1000, drss, w0 * 1000, r0, "" if ok else " (report count wrong)"))
    else:
        print("%-10s %12s %14s   %s" % ("config", "extra time", "extra max RSS", "baseline"))
        for name, dt, drss, w0, r0, ok, counts in rows:
            print("%-10s %9.1f ms %10.1f MiB   %.1f ms, %.1f MiB%s"
                  % (name, dt * 1000, drss, w0 * 1000, r0,
                     "" if ok else "   REPORTS PER RUN %s" % counts))
        print("(median of %d runs each, with and without the bug)" % args.reps)
    return 1 if bad else 0


if __name__ == "__main__":
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    sys.exit(main())
