#!/usr/bin/env python3
"""Detection probability of a single use-after-free write under slabdbg's
sampling (SLABDBG_OPTIONS sample_rate, default 20000).

    python3 bench/uaf_probability.py [--markdown]

Two measurements, both with workloads/uaf_trials.c under LD_PRELOAD=
libslabdbg.so and SLABDBG_OPTIONS=guard_continue=1:json=FILE:

1. trials: a few long processes, each doing many independent trials
   (allocate 16..4096 bytes, use, free, write one byte into it) between
   ordinary allocations.  Reports of kind use_after_free_write / trials is
   the probability per use-after-free.
2. processes: many short processes with exactly one use-after-free each,
   after N ordinary allocations: the probability for a program that has one.

Every report must be a use_after_free_write from the stray store (any other
kind is counted and shown).  Intervals are exact (Clopper-Pearson) 95 %
intervals.  The prediction is the probability that the trial's allocation is
the sampled one: the countdown between samples is uniform in
[1, 2*sample_rate], so in the long run 1/sample_rate of the allocations are
sampled, and the n-th allocation of a thread is sampled with the renewal
probability u(n) (u(n) = (1/2r) * sum of u(n-j), j = 1..2r, u(0) = 1), which
starts at 1/(2r) and settles at 1/r after a few times 2r allocations.

Standard library only.
"""

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_DIR = os.path.dirname(BENCH_DIR)


def binom_cdf(k, n, p):
    """P(X <= k), X ~ Binomial(n, p); k is small here."""
    if p <= 0:
        return 1.0
    if p >= 1:
        return 1.0 if k >= n else 0.0
    total = 0.0
    lp, lq = math.log(p), math.log1p(-p)
    for i in range(0, k + 1):
        total += math.exp(math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1) + i * lp + (n - i) * lq)
    return min(1.0, total)


def clopper_pearson(k, n, alpha=0.05):
    def solve(f, target):
        lo, hi = 0.0, 1.0
        for _ in range(200):
            mid = (lo + hi) / 2
            if f(mid) > target:
                lo = mid
            else:
                hi = mid
        return (lo + hi) / 2
    # lower: P(X >= k | p) = alpha/2  <=>  cdf(k-1) = 1 - alpha/2
    lower = 0.0 if k == 0 else solve(lambda p: binom_cdf(k - 1, n, p), 1 - alpha / 2)
    upper = 1.0 if k == n else solve(lambda p: binom_cdf(k, n, p), alpha / 2)
    return lower, upper


def renewal(rate, upto):
    """u[n]: probability that a thread's n-th allocation is sampled."""
    span = 2 * rate
    u = [0.0] * (upto + 1)
    u[0] = 1.0
    window = 1.0  # sum of u[n-span .. n-1]
    for n in range(1, upto + 1):
        u[n] = window / span
        window += u[n]
        if n - span >= 0:
            window -= u[n - span]
    return u


def run_one(exe, lib, argv, options, timeout):
    with tempfile.NamedTemporaryFile(prefix="uaf-", suffix=".json", delete=False) as jf:
        jpath = jf.name
    env = {k: v for k, v in os.environ.items() if k not in ("SLABDBG", "SLABDBG_OPTIONS")}
    env["LD_PRELOAD"] = lib
    env["SLABDBG_OPTIONS"] = "guard_continue=1:log=/dev/null:json=%s%s" % (jpath, ":" + options if options else "")
    try:
        p = subprocess.run([exe] + argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=timeout)
        kinds = {}
        with open(jpath) as f:
            for line in f:
                line = line.strip()
                if line:
                    k = json.loads(line).get("kind", "?")
                    kinds[k] = kinds.get(k, 0) + 1
    finally:
        os.unlink(jpath)
    out = p.stdout.decode(errors="replace")
    fields = dict(kv.split("=", 1) for kv in out.split()[1:] if "=" in kv)
    return p.returncode, fields, kinds, p.stderr.decode(errors="replace")


def fmt_p(p):
    return "%.2e" % p if p else "0"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build-dir", default=os.path.join(REPO_DIR, "build"))
    ap.add_argument("--slabdbg", help="libslabdbg.so (default <build-dir>/libslabdbg.so)")
    ap.add_argument("--rate", type=int, default=20000, help="sample_rate to measure (default 20000, the default)")
    ap.add_argument("--procs", type=int, default=8, help="trial processes (default 8)")
    ap.add_argument("--trials", type=int, default=2500000, help="trials per process (default 2.5M)")
    ap.add_argument("--noise", type=int, default=4, help="ordinary allocations per trial (default 4)")
    ap.add_argument("--runs", type=int, default=2000, help="one-UAF processes per row (default 2000)")
    ap.add_argument("--pre", type=int, default=100000, help="ordinary allocations before the one UAF (default 100000)")
    ap.add_argument("--run-rates", default="20000,1000,100",
                    help="sample_rate values of the one-UAF process rows (default 20000,1000,100)")
    ap.add_argument("--delays", default="",
                    help="extra trial rows with -d DELAY ordinary allocations between free and write, "
                         "as RATE:DELAY,... (e.g. 100:5000,100:50000: the slot is reused after ~slots*rate)")
    ap.add_argument("--slots", type=int, default=127, help="sample_slots in effect (for the prediction; default 127)")
    ap.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--markdown", action="store_true")
    args = ap.parse_args()

    exe = os.path.join(os.path.abspath(args.build_dir), "bench", "bench_uaf_trials")
    lib = os.path.abspath(args.slabdbg or os.path.join(args.build_dir, "libslabdbg.so"))
    for p in (exe, lib):
        if not os.path.exists(p):
            sys.exit("uaf_probability.py: %s not built" % p)

    rows = []
    odd = []

    def trial_row(label, rate, delay):
        # a long delay costs allocations: at most about 2e7 per process
        per = min(args.trials, max(1000, int(2e7 // (1 + args.noise + delay))))
        argvs = [["-t", str(per), "-n", str(args.noise), "-d", str(delay), "-S", str(1000 + i)]
                 for i in range(args.procs)]
        with ThreadPoolExecutor(args.jobs) as ex:
            res = list(ex.map(lambda a: run_one(exe, lib, a, "sample_rate=%d" % rate, 600), argvs))
        trials = allocs = hits = 0
        other = {}
        for rc, fields, kinds, err in res:
            if rc != 0 or "writes" not in fields:
                odd.append("trial process exited %d: %s" % (rc, err.strip()[-300:]))
                continue
            trials += int(fields["writes"])
            allocs += int(fields["allocations"])
            hits += kinds.get("use_after_free_write", 0)
            for k, v in kinds.items():
                if k != "use_after_free_write":
                    other[k] = other.get(k, 0) + v
        lo, hi = clopper_pearson(hits, trials)
        # caught only while the slot is still guarded: it is reused after the
        # other slots (least recently freed first), about slots * rate
        # allocations later
        pred = 1.0 / (rate + 0.5) if (1 + args.noise + delay) < args.slots * rate else 0.0
        rows.append([label, "%d" % rate, "%d x %d trials, delay %d" % (args.procs, trials // max(1, args.procs), delay),
                     "%d / %d" % (hits, trials), fmt_p(hits / trials if trials else 0),
                     "[%s, %s]" % (fmt_p(lo), fmt_p(hi)), fmt_p(pred),
                     "%.2f" % (hits / trials * rate) if trials else "-",
                     ", ".join("%s %d" % kv for kv in sorted(other.items())) or "none"])
        print("  %s rate %d delay %d: %d/%d (allocations %d)" % (label, rate, delay, hits, trials, allocs), file=sys.stderr, flush=True)

    def process_row(rate):
        argvs = [["-t", "1", "-n", "0", "-N", str(args.pre), "-S", str(i)] for i in range(args.runs)]
        with ThreadPoolExecutor(args.jobs) as ex:
            res = list(ex.map(lambda a: run_one(exe, lib, a, "sample_rate=%d" % rate, 60), argvs))
        hits = n = 0
        other = {}
        allocs = None
        for rc, fields, kinds, err in res:
            if rc != 0 or "writes" not in fields:
                odd.append("one-UAF process exited %d: %s" % (rc, err.strip()[-300:]))
                continue
            n += 1
            allocs = int(fields["allocations"])
            hits += 1 if kinds.get("use_after_free_write", 0) else 0
            for k, v in kinds.items():
                if k != "use_after_free_write":
                    other[k] = other.get(k, 0) + v
        lo, hi = clopper_pearson(hits, n)
        # The UAF object is the program's last allocation; the few allocations
        # libc and the loader make before main are not counted (they shift n
        # by a handful, which changes u(n) by a negligible amount).
        u = renewal(rate, allocs) if allocs else [0.0]
        pred = u[allocs] if allocs else 0.0
        rows.append(["processes", "%d" % rate, "%d runs, UAF after %d allocations" % (n, allocs - 1 if allocs else 0),
                     "%d / %d" % (hits, n), fmt_p(hits / n if n else 0), "[%s, %s]" % (fmt_p(lo), fmt_p(hi)),
                     fmt_p(pred), "%.2f" % (hits / n * rate) if n else "-",
                     ", ".join("%s %d" % kv for kv in sorted(other.items())) or "none"])
        print("  processes rate %d: %d/%d" % (rate, hits, n), file=sys.stderr, flush=True)

    trial_row("trials", args.rate, 0)
    for item in [x for x in args.delays.split(",") if x]:
        r, d = item.split(":")
        trial_row("trials", int(r), int(d))
    for r in [int(x) for x in args.run_rates.split(",") if x]:
        process_row(r)

    header = ["measurement", "sample_rate", "runs", "reports / UAFs", "probability", "95% interval",
              "predicted", "probability x rate", "other report kinds"]
    if args.markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + "|".join(["---"] * 3 + ["---:"] * 5 + ["---"]) + "|")
        for r in rows:
            print("| " + " | ".join(r) + " |")
    else:
        widths = [max(len(x[i]) for x in rows + [header]) for i in range(len(header))]
        for r in [header] + rows:
            print("  ".join(c.ljust(widths[i]) for i, c in enumerate(r)).rstrip())
    for o in odd[:10]:
        print("note: " + o)
    return 1 if odd else 0


if __name__ == "__main__":
    sys.exit(main())
