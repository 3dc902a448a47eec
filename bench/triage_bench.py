#!/usr/bin/env python3
"""How long slabdbg triage takes on a fleet's worth of reports.

    bench/triage_bench.py [--build DIR] [--reports N] [--per-process K]
                          [--hosts H] [--repeat R] [--keep DIR]

Makes real JSON reports once (the bug programs of tests/debug and the seed
example under "slabdbg run"), then a directory of N reports derived from
them: N/K processes, one file each (r.<pid>.json, K reports), in H host
directories; every report gets its own pid, host, program, time and code
addresses, as reports from many machines would.  Also the same reports as
text in one syslog file (journalctl -o short lines, interleaved by
process).  Then it times "slabdbg triage DIR" (text and --json output) and
"slabdbg triage SYSLOG", R times each, and prints the median and the best.
"""
import argparse
import json
import os
import random
import resource
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# (program under tests/debug/bin, arguments, SLABDBG)
BUG_RUNS = [
    ("write_after_free", ["middle", "4"], "FZPU"),
    ("write_after_free", ["end", "8"], "FZPU"),
    ("double_free", [], "FZPU"),
    ("right_redzone_overflow", [], "FZPU"),
    ("left_redzone_underflow", [], "FZPU"),
    ("kmalloc_redzone_overflow", [], "FZPU"),
    ("invalid_free_interior", [], "FZPU"),
    ("wrong_cache_free", [], "FZPU"),
    ("objects_remaining", [], "FZPU"),
    ("object_padding_overwrite", [], "FZPU"),
    ("waf_threads", [], "FZPU"),
]


def base_reports(build, work):
    """Real reports: (json line, text lines) per bug."""
    cli = os.path.join(build, "slabdbg")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLABDBG") and k != "LD_PRELOAD"}
    out = []
    runs = [(os.path.join(build, "tests", "debug", "bin", p), a, f) for p, a, f in BUG_RUNS]
    runs.append((os.path.join(build, "examples", "seed"), [], "G"))
    for i, (prog, args, flags) in enumerate(runs):
        if not os.path.exists(prog):
            continue
        j, t = os.path.join(work, "b%d.json" % i), os.path.join(work, "b%d.txt" % i)
        for f in (j, t):
            if os.path.exists(f):
                os.unlink(f)
        subprocess.run([cli, "run", "-d", flags, "-o", "json=%s:log=%s" % (j, t), "--", prog] + args,
                       env=env, capture_output=True, timeout=60)
        if os.path.exists(j) and os.path.exists(t):
            jl = [l for l in open(j).read().splitlines() if l.strip()]
            lines = open(t).read().splitlines()
            reports, cur = [], None
            for k, l in enumerate(lines):  # a report starts at "=====" before its BUG line
                if l.startswith("=====") and k + 1 < len(lines) and lines[k + 1].startswith("BUG "):
                    cur = []
                    reports.append(cur)
                if cur is not None:
                    cur.append(l)
            for k, line in enumerate(jl):
                out.append((line, reports[k] if k < len(reports) else []))
    if not out:
        sys.exit("triage_bench: no reports made (is %s built?)" % build)
    return out


def vary_json(line, rnd, pid, host, prog, t):
    rep = json.loads(line)
    rep["pid"] = pid
    rep["host"] = host
    rep["program"] = prog
    rep["time"] = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%06dZ" % rnd.randrange(10**6)
    shift = rnd.randrange(1, 1 << 20) << 12  # another address-space layout

    def move(stack):
        for f in stack or []:
            if isinstance(f, dict) and "pc" in f:
                f["pc"] = hex(int(f["pc"], 16) + shift)
    move(rep.get("found_by"))
    for k in ("alloc", "free"):
        if isinstance(rep.get(k), dict):
            move(rep[k].get("stack"))
            rep[k]["pid"] = pid
    return json.dumps(rep, separators=(",", ":"))


def generate(base, n, per, hosts, out_dir, syslog_path, seed=1):
    rnd = random.Random(seed)
    progs = ["api-server", "worker", "scheduler", "cache", "indexer", "gateway"]
    weights = [1.0 / (i + 1) for i in range(len(base))]  # a few bugs common, most rare
    t0 = 1764633600  # 2025-12-02
    pid = 1000
    written = 0
    streams = []  # per process: its reports' lines, in order
    while written < n:
        pid += rnd.randrange(1, 50)
        host = "host%03d" % rnd.randrange(hosts)
        prog = rnd.choice(progs)
        d = os.path.join(out_dir, host)
        os.makedirs(d, exist_ok=True)
        stream = []
        streams.append(stream)
        with open(os.path.join(d, "r.%d.json" % pid), "w") as f:
            for _ in range(min(per, n - written)):
                b = rnd.choices(range(len(base)), weights)[0]
                t = t0 + rnd.randrange(7 * 86400)
                f.write(vary_json(base[b][0], rnd, pid, host, prog, t) + "\n")
                stamp = time.strftime("%b %d %H:%M:%S", time.gmtime(t))
                stream += [(stamp, host, pid, re.sub(r"\b(PID: |pid=)\d+", r"\g<1>%d" % pid, l))
                           for l in base[b][1]]
                written += 1
    # the lines of 8 processes at a time interleaved, as a busy syslog has
    # them; each process writes its reports one after the other
    with open(syslog_path, "w") as f:
        for i in range(0, len(streams), 8):
            live = [list(s) for s in streams[i:i + 8] if s]
            while live:
                for r in list(live):
                    s, h, p, l = r.pop(0)
                    f.write("%s %s slabdbg[%d]: %s\n" % (s, h, p, l))
                    if not r:
                        live.remove(r)
    return written


def timed(cmd, repeat):
    """Median and best wall time, median CPU time (user + system: what a
    busy machine does not inflate), and the output."""
    times, cpu = [], []
    out = None
    subprocess.run(cmd, capture_output=True)  # the files in the page cache
    for _ in range(repeat):
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        p = subprocess.run(cmd, capture_output=True, text=True)
        times.append(time.perf_counter() - t)
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu.append(r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime)
        if p.returncode != 0:
            sys.exit("triage_bench: %s failed (%d): %s" % (" ".join(cmd), p.returncode, p.stderr))
        out = p.stdout
    return statistics.median(times), min(times), statistics.median(cpu), out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--reports", type=int, default=10000)
    ap.add_argument("--per-process", type=int, default=5)
    ap.add_argument("--hosts", type=int, default=50)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--keep", help="write the generated inputs here and keep them")
    args = ap.parse_args()
    work = args.keep or tempfile.mkdtemp(prefix="slabdbg-triage-bench.")
    os.makedirs(work, exist_ok=True)
    try:
        base = base_reports(args.build, work)
        reports_dir = os.path.join(work, "reports")
        syslog = os.path.join(work, "syslog")
        shutil.rmtree(reports_dir, ignore_errors=True)
        n = generate(base, args.reports, args.per_process, args.hosts, reports_dir, syslog)
        files = sum(len(fs) for _, _, fs in os.walk(reports_dir))
        size = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(reports_dir)
                   for f in fs)
        cli = os.path.join(args.build, "slabdbg")
        print("inputs: %d JSON reports of %d kinds of bug, %d files (one per process), %d hosts, "
              "%.1f MB; the same as text in one syslog file, %.1f MB"
              % (n, len(base), files, args.hosts, size / 1e6, os.path.getsize(syslog) / 1e6))
        fmt = "%-28s %6.3f s median, %6.3f s best wall; %6.3f s CPU  (%s)"
        med, best, cpu, out = timed([cli, "triage", reports_dir], args.repeat)
        print(fmt % ("slabdbg triage DIR", med, best, cpu, out.splitlines()[0]))
        med, best, cpu, out = timed([cli, "triage", "--json", reports_dir], args.repeat)
        print(fmt % ("slabdbg triage --json DIR", med, best, cpu,
                     "%d groups" % json.loads(out)["signatures"]))
        med, best, cpu, out = timed([cli, "triage", syslog], args.repeat)
        print(fmt % ("slabdbg triage SYSLOG", med, best, cpu, out.splitlines()[0]))
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
