#!/usr/bin/env python3
"""Benchmark runner for slabdbg: runs every workload under several malloc
implementations (switched with LD_PRELOAD) and prints one comparison table.

    cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo && cmake --build build -j2
    python3 bench/run.py [--reps N] [--quick] [--only larson,cfrac] [--markdown]

Runs are interleaved: for each workload and each repetition, every allocator
runs once (the order rotates between repetitions), so slow drifts of the
machine affect all allocators alike.  Each run is a fresh process; its wall
time and peak RSS (ru_maxrss from wait4) are recorded, and the table shows
medians and their ratio to glibc.  A run that crashes, times out, exits
non-zero or produces a different result than glibc is shown as FAIL.

Besides plain preloads, three debugging configurations can be chosen with
--allocators, or all at once with --debug-table: slabdbg-fzpu (slabdbg with
SLABDBG=FZPU; a "BUG ..." line on stderr fails the run), asan (the C
workloads' -fsanitize=address builds, bench_asan_*; n/a for python and
sqlite) and valgrind (memcheck over glibc, one repetition by default).

Standard library only, but for --plot DIR, which writes the tables as SVG
charts with matplotlib (Debian: python3-matplotlib); --plot DIR --replot
RESULTS.json charts a saved run instead of running.
"""

import argparse
import datetime
import glob
import hashlib
import json
import math
import os
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_DIR = os.path.dirname(BENCH_DIR)

# --------------------------------------------------------------------------
# Workloads


class Workload:
    def __init__(self, name, desc, kind, args=(), env=None):
        self.name = name
        self.desc = desc
        self.kind = kind  # "c", "python" or "sqlite"
        self.args = list(args)
        self.env = dict(env or {})
        self.path = None  # resolved program
        self.asan_path = None  # the -fsanitize=address build (C workloads)
        self.missing = None  # reason it cannot run

    def command(self, scale):
        """argv for one run at the given scale."""
        if self.kind == "c":
            argv = [self.path] + self.args
            if scale != 1.0:
                argv += ["-s", repr(scale)]
            return argv
        if self.kind == "python":
            return [self.path, os.path.join(BENCH_DIR, "real", "py_alloc.py"), repr(scale)]
        if self.kind == "sqlite":
            rows = max(100, int(SQLITE_ROWS * scale))
            return [
                self.path,
                "-batch",
                ":memory:",
                "-cmd",
                ".parameter set @n %d" % rows,
                ".read " + os.path.join(BENCH_DIR, "real", "sqlite_workload.sql"),
            ]
        raise ValueError(self.kind)


SQLITE_ROWS = 100000

WORKLOADS = [
    Workload("larson", "server churn, objects inherited by the next thread", "c"),
    Workload("mstress", "mixed lifetimes and sizes, objects migrate between threads", "c"),
    Workload("xmalloc", "producer threads allocate, consumer threads free", "c"),
    Workload("cache-scratch", "passive false sharing", "c"),
    Workload("cache-thrash", "active false sharing", "c"),
    Workload("glibc-simple", "single-thread small malloc/free batches", "c"),
    Workload("glibc-thread", "per-thread random malloc/free working sets", "c"),
    Workload("cfrac", "bignum continued fractions, short-lived small objects", "c"),
    Workload("espresso", "cube covers: intersection, sort, containment", "c"),
    Workload("large", "64 KiB..8 MiB objects, page touching, realloc growth", "c"),
    Workload(
        "python",
        "python3 with PYTHONMALLOC=malloc: dicts, lists, strings, json",
        "python",
        env={"PYTHONMALLOC": "malloc", "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1"},
    ),
    Workload("sqlite", "sqlite3 in-memory: inserts, indexes, joins, sorts", "sqlite"),
]

# --------------------------------------------------------------------------
# Allocators

PEER_LIBS = {
    "jemalloc": ["libjemalloc.so.2", "libjemalloc.so"],
    "mimalloc": ["libmimalloc.so.2", "libmimalloc.so"],
    "tcmalloc": ["libtcmalloc_minimal.so.4", "libtcmalloc_minimal.so", "libtcmalloc.so.4"],
}


class Allocator:
    """One column pair of the table: an allocator, or a debugging
    configuration that is not a plain preload.

    kind "preload": the workload runs with LD_PRELOAD=lib (lib None: glibc).
    kind "valgrind": the workload runs under valgrind memcheck, with glibc.
    kind "asan": the C workloads' -fsanitize=address builds (bench_asan_*);
    programs that cannot be rebuilt (python3, sqlite3) are not applicable."""

    def __init__(self, name, lib, extra_env=None, kind="preload", tool=None,
                 default_reps=None, timeout_factor=1.0, check_reports=False, label=None):
        self.name = name
        self.lib = lib  # None for the system allocator
        self.extra_env = dict(extra_env or {})
        self.kind = kind
        self.tool = tool  # valgrind's path
        self.default_reps = default_reps  # at most this many repetitions, unless --reps-for
        self.timeout_factor = timeout_factor
        self.check_reports = check_reports  # a stderr line "BUG ..." fails the run
        self.label = label  # how the table's legend names it
        self.reps = None  # set in main()

    def describe(self):
        if self.label:
            return self.label
        return os.path.basename(self.lib) if self.lib else "system"

    def argv(self, w, scale):
        """argv of workload w under this configuration, or None when the
        configuration does not apply to it."""
        if self.kind == "asan":
            if w.kind != "c" or not w.asan_path:
                return None
            argv = w.command(scale)
            argv[0] = w.asan_path
            return argv
        if self.kind == "valgrind":
            return [self.tool] + VALGRIND_ARGS + w.command(scale)
        return w.command(scale)

    def not_applicable(self, w):
        """Why workload w has no run under this configuration ("" if it has)."""
        if self.kind != "asan":
            return ""
        if w.kind != "c":
            return "prebuilt system programs (%s), which cannot be rebuilt with -fsanitize=address" % os.path.basename(w.path)
        if not w.asan_path:
            return "not built (bench_asan_%s)" % w.name.replace("-", "_")
        return ""


VALGRIND_ARGS = ["--tool=memcheck", "--error-exitcode=0", "-q"]
ASAN_ENV = {"ASAN_OPTIONS": "detect_leaks=0"}
FZPU_ENV = {"SLABDBG": "FZPU"}

# The configurations beyond plain preloads, and the set --debug-table runs.
DEBUG_CONFIGS = ["slabdbg-fzpu", "asan", "valgrind"]
DEBUG_TABLE = ["glibc", "slabdbg", "slabdbg-fzpu", "asan", "valgrind"]
DEBUG_TABLE_REPS = 3

# slabdbg with settings of its own: name -> environment (SLABDBG_OPTIONS is
# appended to any --env SLABDBG_OPTIONS).  Run only when named; more with
# --config NAME=K=V,K=V.
SLABDBG_CONFIGS = {
    "slabdbg-nosample": {"SLABDBG_OPTIONS": "sample_rate=0"},
    "slabdbg-g64": {"SLABDBG": "G,kmalloc-64"},
    "slabdbg-g1k": {"SLABDBG": "G,kmalloc-1024"},
}
# --sampling-table: sampling at the default rate against slabdbg without it.
SAMPLING_TABLE = ["glibc", "slabdbg-nosample", "slabdbg"]
SAMPLING_TABLE_REPS = 11
SAMPLING_PAIRS = [("slabdbg-nosample", "slabdbg")]
# --guard-table: guard mode on one cache against plain slabdbg.
GUARD_TABLE = ["glibc", "slabdbg", "slabdbg-g64", "slabdbg-g1k"]
GUARD_TABLE_REPS = 3
GUARD_PAIRS = [("slabdbg", "slabdbg-g64"), ("slabdbg", "slabdbg-g1k")]

CONFIG_HELP = {
    "glibc": "the system malloc (no preload); the baseline of every ratio",
    "slabdbg": "libslabdbg.so preloaded, debugging off",
    "slabdbg-fzpu": "libslabdbg.so preloaded with SLABDBG=FZPU (checks, red zones, poison, tracks on every cache)",
    "asan": "the C workloads built with -fsanitize=address (bench_asan_*), ASAN_OPTIONS=detect_leaks=0; n/a for python, sqlite",
    "valgrind": "valgrind --tool=memcheck --error-exitcode=0 -q, with glibc; 1 repetition unless --reps-for",
    "slabdbg-nosample": "libslabdbg.so preloaded with SLABDBG_OPTIONS=sample_rate=0 (no sampling)",
    "slabdbg-g64": "libslabdbg.so preloaded with SLABDBG=G,kmalloc-64 (guard mode on kmalloc-64)",
    "slabdbg-g1k": "libslabdbg.so preloaded with SLABDBG=G,kmalloc-1024 (guard mode on kmalloc-1024)",
}


def split_config_env(text):
    """'K=V,K2=V2' -> {K: V, K2: V2}.  A comma starts a new variable only when
    a NAME= follows it, so SLABDBG=G,kmalloc-64 keeps its comma."""
    out = {}
    for part in re.split(r",(?=[A-Za-z_][A-Za-z0-9_]*=)", text):
        if "=" not in part or part.startswith("="):
            sys.exit("run.py: --config expects NAME=K=V[,K=V...], got %r" % text)
        k, v = part.split("=", 1)
        out[k] = v
    return out


def merge_env(base, extra):
    """base + extra; SLABDBG_OPTIONS values are joined with ':'."""
    env = dict(base)
    for k, v in extra.items():
        if k == "SLABDBG_OPTIONS" and env.get(k):
            env[k] = env[k] + ":" + v
        else:
            env[k] = v
    return env


def median_ci(xs, level=0.95):
    """Distribution-free interval for the median: order statistics (lo, hi)
    with at least `level` coverage, or None when there are too few values."""
    xs = sorted(xs)
    n = len(xs)
    best = None
    for k in range(0, n // 2):
        # P(X_(k+1) <= median <= X_(n-k)) = 1 - 2 P(Binomial(n, 1/2) <= k)
        tail = sum(math.comb(n, i) for i in range(k + 1)) / 2.0 ** n
        if 1 - 2 * tail >= level:
            best = (xs[k], xs[n - 1 - k])
        else:
            break
    return best


def compiler_of(build_dir):
    """'gcc 12.2.0' from CMake's record of the C compiler, or None."""
    for path in sorted(glob.glob(os.path.join(build_dir, "CMakeFiles", "*", "CMakeCCompiler.cmake"))):
        try:
            with open(path) as f:
                text = f.read()
        except OSError:
            continue
        cid = re.search(r'set\(CMAKE_C_COMPILER_ID "([^"]*)"\)', text)
        ver = re.search(r'set\(CMAKE_C_COMPILER_VERSION "([^"]*)"\)', text)
        if cid:
            name = {"GNU": "gcc", "Clang": "clang"}.get(cid.group(1), cid.group(1))
            return name + (" " + ver.group(1) if ver and ver.group(1) else "")
    return None


def valgrind_version(path):
    try:
        out = subprocess.run([path, "--version"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                             timeout=20).stdout.decode(errors="replace").strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return out.replace("valgrind-", "") or None


def ldconfig_libs():
    """name -> path of the shared libraries known to the dynamic loader."""
    found = {}
    for exe in ("ldconfig", "/sbin/ldconfig", "/usr/sbin/ldconfig"):
        path = shutil.which(exe) or (exe if os.path.isabs(exe) and os.path.exists(exe) else None)
        if not path:
            continue
        try:
            out = subprocess.run(
                [path, "-p"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=20
            ).stdout.decode(errors="replace")
        except (OSError, subprocess.SubprocessError):
            continue
        for line in out.splitlines():
            m = re.match(r"\s*(\S+)\s+\(([^)]*)\)\s+=>\s+(\S+)", line)
            if m and ("x86-64" in m.group(2) or "64bit" in m.group(2) or "," not in m.group(2)):
                found.setdefault(m.group(1), m.group(3))
        break
    return found


def find_peer(names, known):
    for n in names:
        if n in known and os.path.exists(known[n]):
            return known[n]
    patterns = ["/usr/lib/*-linux-gnu", "/lib/*-linux-gnu", "/usr/lib64", "/usr/lib", "/usr/local/lib"]
    for n in names:
        for pat in patterns:
            for d in sorted(glob.glob(pat)):
                p = os.path.join(d, n)
                if os.path.exists(p):
                    return p
    return None


# --------------------------------------------------------------------------
# Running one process


class Result:
    def __init__(self):
        self.ok = False
        self.time = None
        self.rss_kib = None
        self.cpu = None  # user + system seconds
        self.status = ""  # "" when ok, else the reason
        self.check = None
        self.stdout = ""
        self.stderr = ""
        self.bug_line = None  # first "BUG ..." line of a slabdbg report


def signal_name(sig):
    try:
        return signal.Signals(sig).name
    except ValueError:
        return "signal %d" % sig


def run_once(argv, env_delta, base_env, timeout, launcher):
    """Run argv with base_env + env_delta; measure wall time and peak RSS.

    With the launcher (bench_launch), the launcher forks the program and
    reports its rusage; without it the program is spawned directly and its
    ru_maxrss cannot be lower than this runner's own peak RSS."""
    res = Result()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err, \
            tempfile.NamedTemporaryFile(prefix="bench-", suffix=".res") as resf:
        if launcher:
            full = [launcher, "-o", resf.name]
            for k, v in env_delta.items():
                full += ["-e", "%s=%s" % (k, v)]
            full += ["--"] + argv
            env = base_env
        else:
            full = argv
            env = dict(base_env)
            env.update(env_delta)
        actions = [
            (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
            (os.POSIX_SPAWN_DUP2, out.fileno(), 1),
            (os.POSIX_SPAWN_DUP2, err.fileno(), 2),
        ]
        t0 = time.perf_counter()
        try:
            pid = os.posix_spawn(full[0], full, env, file_actions=actions, setsid=True)
        except OSError as e:
            res.status = "spawn: %s" % e.strerror
            return res
        lock = threading.Lock()
        state = {"exited": False, "timed_out": False}

        def on_timeout():
            with lock:
                if not state["exited"]:
                    state["timed_out"] = True
                    try:
                        os.killpg(pid, signal.SIGKILL)  # the group of our own child
                    except ProcessLookupError:
                        pass

        timer = threading.Timer(timeout, on_timeout)
        timer.daemon = True
        timer.start()
        # Wait for the exit without reaping, so the pid (and its process
        # group) cannot be reused while the timer may still fire.
        while True:
            try:
                os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)
                break
            except InterruptedError:
                continue
        elapsed = time.perf_counter() - t0
        with lock:
            state["exited"] = True
        timer.cancel()
        _, status, usage = os.wait4(pid, 0)
        res.time = elapsed
        res.rss_kib = usage.ru_maxrss
        res.cpu = usage.ru_utime + usage.ru_stime
        out.seek(0)
        err.seek(0)
        res.stdout = out.read().decode(errors="replace")
        res.stderr = err.read().decode(errors="replace")
        if launcher and not state["timed_out"]:
            with open(resf.name) as f:
                line = f.read()
            m = re.match(r"exit=(-?\d+) signal=(\d+) maxrss_kib=(\d+) wall_s=([0-9.]+)", line)
            if not m:
                res.status = "launcher failed"
                if os.WIFEXITED(status):
                    res.status += " (exit %d)" % os.WEXITSTATUS(status)
                return res
            code, sig = int(m.group(1)), int(m.group(2))
            res.rss_kib = int(m.group(3))
            res.time = float(m.group(4))
            m = re.search(r"user_s=([0-9.]+) sys_s=([0-9.]+)", line)
            res.cpu = float(m.group(1)) + float(m.group(2)) if m else None
        else:
            code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else -1
            sig = os.WTERMSIG(status) if os.WIFSIGNALED(status) else 0
    if state["timed_out"]:
        res.status = "timeout>%gs" % timeout
    elif sig:
        res.status = signal_name(sig)
    elif code != 0:
        res.status = "exit %d" % code
    else:
        m = re.search(r"\bcheck=([0-9a-fA-F]+)", res.stdout)
        if m:
            res.check = m.group(1).lower()
        elif res.stdout.strip():
            res.check = hashlib.sha256(res.stdout.encode()).hexdigest()[:16]
        else:
            res.status = "no output"
            return res
        res.ok = True
    return res


def cpu_busy_seconds():
    """CPU time spent by the whole machine so far (all CPUs), or None."""
    try:
        with open("/proc/stat") as f:
            fields = f.readline().split()
    except OSError:
        return None
    if not fields or fields[0] != "cpu":
        return None
    # user nice system idle iowait irq softirq steal ...
    vals = [int(x) for x in fields[1:]]
    busy = sum(vals[:3]) + sum(vals[5:8])
    return busy / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds():
    """CPU time of this runner and of every process it has reaped."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        ru = resource.getrusage(who)
        total += ru.ru_utime + ru.ru_stime
    return total


# --------------------------------------------------------------------------
# Formatting


def fmt_time(t):
    return "%.3f" % t if t < 10 else "%.2f" % t


def fmt_rss(kib):
    mib = kib / 1024.0
    if mib < 10:
        return "%.1fM" % mib
    return "%.0fM" % mib


def fmt_ratio(r):
    return "%.2f" % r if r < 100 else "%.0f" % r


def geomean(xs):
    return math.exp(sum(math.log(x) for x in xs) / len(xs))


def render(rows, header, markdown, right_from=1):
    if markdown:
        lines = ["| " + " | ".join(header) + " |"]
        lines.append("|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|")
        for r in rows:
            lines.append("| " + " | ".join(r) + " |")
        return "\n".join(lines)
    widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(len(header))]

    def line(r):
        cells = []
        for i, c in enumerate(r):
            cells.append(c.ljust(widths[i]) if i < right_from else c.rjust(widths[i]))
        return "  ".join(cells).rstrip()

    sep = "  ".join("-" * w for w in widths)
    return "\n".join([line(header), sep] + [line(r) for r in rows])


# --------------------------------------------------------------------------


def parse_kv(items, what):
    out = []
    for it in items:
        if "=" not in it or it.startswith("="):
            sys.exit("run.py: %s expects NAME=VALUE, got %r" % (what, it))
        k, v = it.split("=", 1)
        out.append((k, v))
    return out


def shell_quote(s):
    if re.fullmatch(r"[A-Za-z0-9_./=:@,+-]+", s):
        return s
    return "'" + s.replace("'", "'\\''") + "'"


def repro_command(argv, env_delta):
    """A shell command that repeats a run, from the repository's top directory."""
    parts = []
    for k, v in env_delta.items():
        rel = relpath(v)
        if rel != v and k == "LD_PRELOAD":
            parts.append('%s="$PWD"/%s' % (k, shell_quote(rel)))
        else:
            parts.append("%s=%s" % (k, shell_quote(v)))
    parts += [shell_quote(relpath(on_path(a))) for a in argv]
    return " ".join(parts)


def on_path(p):
    """A program found under its own name in PATH is shown by that name."""
    if os.path.isabs(p) and not p.startswith(REPO_DIR + os.sep):
        name = os.path.basename(p)
        found = shutil.which(name)
        if found and os.path.realpath(found) == os.path.realpath(p):
            return name
    return p


def relpath(p):
    """Paths inside the repository are shown relative to it."""
    if os.path.isabs(p) and (p == REPO_DIR or p.startswith(REPO_DIR + os.sep)):
        return os.path.relpath(p, REPO_DIR)
    if p.startswith(".read " + REPO_DIR + os.sep):
        return ".read " + os.path.relpath(p[6:], REPO_DIR)
    return p


# --------------------------------------------------------------------------
# Charts (--plot)


def load_matplotlib():
    """matplotlib.pyplot with the SVG backend, or exit with what to install.
    A Python of the same version as the system's may use the system's
    packages (python3-matplotlib lives in /usr/lib/python3/dist-packages)."""
    try:
        import matplotlib
    except ImportError:
        system = "/usr/lib/python3/dist-packages"
        probe = subprocess.run(["/usr/bin/python3", "-c", "import sys; print(sys.version_info[:2])"],
                               capture_output=True, text=True) if os.access("/usr/bin/python3", os.X_OK) else None
        if probe and probe.stdout.strip() == str(tuple(sys.version_info[:2])) and os.path.isdir(system):
            sys.path.append(system)
        try:
            import matplotlib
        except ImportError:
            sys.exit("run.py: --plot needs matplotlib, which %s cannot import "
                     "(apt-get install -y python3-matplotlib, and run bench/run.py with /usr/bin/python3)"
                     % sys.executable)
    matplotlib.use("svg")
    matplotlib.rcParams["svg.hashsalt"] = "slabdbg"  # the same run gives the same file
    import matplotlib.pyplot as plt
    return plt


def results_summary(data):
    """From a results dict (as saved by --json): workloads, configurations,
    the summed-up (time, rss) of each cell (None when a run failed), and why
    a cell is n/a."""
    summarise = statistics.median if data.get("stat", "median") == "median" else min
    workloads = list(data["runs"])
    configs = list(data["allocators"])
    cells = {}
    for w in workloads:
        for a in configs:
            rs = data["runs"][w].get(a, [])
            if rs and all(r["ok"] for r in rs):
                cells[(w, a)] = (summarise([r["time"] for r in rs]), summarise([r["rss_kib"] for r in rs]))
            else:
                cells[(w, a)] = None
    return workloads, configs, cells, data.get("not_applicable", {})


def ratio_chart(plt, path, data, what, index, ylabel):
    """Grouped bars: each configuration against the baseline, per workload,
    with their geometric mean; a log scale when the ratios span a lot."""
    workloads, configs, cells, not_app = results_summary(data)
    base = data["baseline"]
    others = [a for a in configs if a != base]
    if not others:
        return False
    bars_total = (len(workloads) + 1) * len(others)
    fig, ax = plt.subplots(figsize=(min(16, max(8, 0.22 * bars_total + 2)), 4.8))
    width = 0.8 / len(others)
    colors = plt.get_cmap("tab10")
    labels = workloads + ["geomean"]
    all_ratios = []
    for k, a in enumerate(others):
        xs, ys, rs = [], [], []
        for i, w in enumerate(workloads):
            b, c = cells.get((w, base)), cells.get((w, a))
            x = i + (k - (len(others) - 1) / 2) * width
            if b and c:
                xs.append(x)
                ys.append(c[index] / b[index])
                rs.append(ys[-1])
            else:
                mark = "n/a" if a in not_app.get(w, {}) else "FAIL"
                ax.text(x, 1.0, mark, rotation=90, ha="center", va="bottom", fontsize=7, color=colors(k))
        if rs:
            xs.append(len(workloads) + (k - (len(others) - 1) / 2) * width)
            ys.append(geomean(rs))
        all_ratios += ys
        bars = ax.bar(xs, ys, width, label=a, color=colors(k), bottom=0)
        ax.bar_label(bars, fmt="%.2f", fontsize=6, padding=1)
    if all_ratios and max(all_ratios) / max(min(all_ratios), 1e-9) > 8:
        # ratios of 0.1 and 30 in one chart: a log scale, with plain numbers
        from matplotlib.ticker import NullFormatter
        ax.set_yscale("log")
        lo, hi = min(all_ratios) * 0.8, max(all_ratios) * 1.25
        ticks = [t * 10.0 ** e for e in range(-3, 4) for t in (1, 2, 5) if lo <= t * 10.0 ** e <= hi]
        ax.set_yticks(ticks)
        ax.set_yticklabels(["%g" % t for t in ticks])
        ax.yaxis.set_minor_formatter(NullFormatter())
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.set_xticks(range(len(labels)))
    ax.set_xticklabels(labels, rotation=30, ha="right")
    ax.set_ylabel(ylabel)
    reps = data.get("reps")
    ax.set_title("%s relative to %s (%s of %s run%s, scale %g; lower is better)"
                 % (what, base, data.get("stat", "median"), reps, "" if reps == 1 else "s",
                    data.get("scale", 1)), fontsize=10)
    ax.legend(fontsize=8, ncol=min(len(others), 4))
    ax.grid(axis="y", linewidth=0.3)
    fig.tight_layout()
    fig.savefig(path, metadata={"Date": None})
    plt.close(fig)
    return True


def pair_chart(plt, path, data, pa, pb):
    """B against A per workload: the median of the paired per-repetition
    time ratios with their distribution-free 95% interval."""
    workloads = list(data["runs"])
    names, meds, lo, hi = [], [], [], []
    no_interval = False
    for w in workloads:
        ra = [r for r in data["runs"][w].get(pa, []) if r["ok"]]
        rb = [r for r in data["runs"][w].get(pb, []) if r["ok"]]
        paired = [b["time"] / a["time"] for a, b in zip(ra, rb) if a["time"] > 0]
        if not paired:
            continue
        m = statistics.median(paired)
        ci = median_ci(paired)
        if not ci:
            no_interval = True
            ci = (m, m)
        names.append(w)
        meds.append(m)
        lo.append(m - ci[0])
        hi.append(ci[1] - m)
    if not names:
        return False
    fig, ax = plt.subplots(figsize=(max(7, 0.8 * len(names)), 4.2))
    ax.errorbar(range(len(names)), meds, yerr=[lo, hi], fmt="o", capsize=4)
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels(names, rotation=30, ha="right")
    ax.set_ylabel("time %s / %s" % (pb, pa))
    ax.set_title("%s against %s: paired time ratio per workload, median and 95%% interval%s"
                 % (pb, pa, "\n(no interval where there were fewer than 6 repetitions)" if no_interval else ""),
                 fontsize=10)
    ax.grid(axis="y", linewidth=0.3)
    fig.tight_layout()
    fig.savefig(path, metadata={"Date": None})
    plt.close(fig)
    return True


def write_plots(plt, out_dir, data):
    """The charts of a run: time.svg and rss.svg (the comparison table) and
    pair-A-B.svg for each --pair; returns the files written."""
    os.makedirs(out_dir, exist_ok=True)
    written = []
    if ratio_chart(plt, os.path.join(out_dir, "time.svg"), data, "Wall time", 0, "time ratio"):
        written.append("time.svg")
    if ratio_chart(plt, os.path.join(out_dir, "rss.svg"), data, "Peak RSS", 1, "peak RSS ratio"):
        written.append("rss.svg")
    for pa, pb in data.get("pairs", []):
        name = "pair-%s-%s.svg" % (pa, pb)
        if pair_chart(plt, os.path.join(out_dir, name), data, pa, pb):
            written.append(name)
    return written


def main():
    ap = argparse.ArgumentParser(
        description="Compare slabdbg with glibc malloc and peer allocators (LD_PRELOAD).",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="workloads: " + ", ".join(w.name for w in WORKLOADS),
    )
    ap.add_argument("--reps", type=int, help="repetitions per workload and allocator (default 5, quick 2, --debug-table %d)" % DEBUG_TABLE_REPS)
    ap.add_argument("--reps-for", action="append", default=[], metavar="NAME=N",
                    help="repetitions for one configuration (repeatable); valgrind defaults to 1")
    ap.add_argument("--quick", action="store_true", help="fewer repetitions and inputs scaled by 0.25")
    ap.add_argument("--scale", type=float, help="scale every workload's amount of work (default 1)")
    ap.add_argument("--only", help="comma-separated workloads to run")
    ap.add_argument("--allocators", help="comma-separated allocators and configurations "
                    "(default: glibc, jemalloc, mimalloc, tcmalloc, slabdbg and --extra ones; "
                    "also: %s)" % ", ".join(DEBUG_CONFIGS))
    ap.add_argument("--debug-table", action="store_true",
                    help="shortcut for --allocators %s, %d repetitions (valgrind 1)"
                    % (",".join(DEBUG_TABLE), DEBUG_TABLE_REPS))
    ap.add_argument("--sampling-table", action="store_true",
                    help="shortcut for --allocators %s, %d repetitions, --stat min, and a table of "
                    "slabdbg / slabdbg-nosample" % (",".join(SAMPLING_TABLE), SAMPLING_TABLE_REPS))
    ap.add_argument("--guard-table", action="store_true",
                    help="shortcut for --allocators %s, %d repetitions, and a table of each guard "
                    "configuration against slabdbg" % (",".join(GUARD_TABLE), GUARD_TABLE_REPS))
    ap.add_argument("--config", action="append", default=[], metavar="NAME=K=V[,K=V]",
                    help="a slabdbg configuration with its own environment (repeatable), e.g. "
                    "--config slabdbg-g256=SLABDBG=G,kmalloc-256; run when named in --allocators")
    ap.add_argument("--pair", action="append", default=[], metavar="A/B",
                    help="also print B against A per workload (time ratio with a 95%% interval of the "
                    "per-repetition ratios, RSS difference in MiB); repeatable")
    ap.add_argument("--slabdbg", help="path of libslabdbg.so (default: <build-dir>/libslabdbg.so)")
    ap.add_argument("--extra", action="append", default=[], metavar="NAME=PATH", help="another allocator to preload (repeatable)")
    ap.add_argument("--env", action="append", default=[], metavar="K=V", help="environment for slabdbg, slabdbg-fzpu and --extra runs (repeatable), e.g. SLABDBG_OPTIONS=quarantine=1M")
    ap.add_argument("--build-dir", default=os.path.join(REPO_DIR, "build"), help="CMake build directory (default: build/)")
    ap.add_argument("--timeout", type=float, default=60.0,
                    help="seconds before a run is killed (default 60; times 3 for asan, 5 for slabdbg-fzpu, 10 for valgrind)")
    ap.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    ap.add_argument("--stat", choices=("median", "min"), default=None,
                    help="how repetitions are summarised (default median; min resists interference)")
    ap.add_argument("--json", metavar="PATH", help="write every run to PATH (default: bench/results/<time>.json)")
    ap.add_argument("--no-save", action="store_true", help="do not write the JSON results file")
    ap.add_argument("--keep-going", action="store_true", help="keep repeating a workload for an allocator after it failed once")
    ap.add_argument("--python", help="python3 to run the python workload (default: the system one)")
    ap.add_argument("--sqlite3", help="sqlite3 binary (default: from PATH)")
    ap.add_argument("-v", "--verbose", action="store_true", help="print every run on stderr")
    ap.add_argument("--list", action="store_true", help="list workloads and allocators, then exit")
    ap.add_argument("--plot", metavar="DIR", help="also write the tables as SVG charts into DIR "
                    "(time.svg, rss.svg, pair-A-B.svg; needs matplotlib)")
    ap.add_argument("--replot", metavar="RESULTS.json", help="with --plot: chart this saved run "
                    "(--json, bench/results/) instead of running")
    args = ap.parse_args()
    if args.replot and not args.plot:
        sys.exit("run.py: --replot goes with --plot DIR")
    plt = load_matplotlib() if args.plot else None  # before an hour of runs, not after
    if args.replot:
        try:
            with open(args.replot) as f:
                data = json.load(f)
        except (OSError, ValueError) as e:
            sys.exit("run.py: --replot %s: %s" % (args.replot, e))
        if not all(k in data for k in ("runs", "allocators", "baseline")):
            sys.exit("run.py: --replot %s: not a results file of run.py" % args.replot)
        written = write_plots(plt, args.plot, data)
        print("run.py: charts in %s: %s" % (args.plot, ", ".join(written) or "none (one configuration)"),
              file=sys.stderr)
        return 0

    shortcuts = [n for n, on in (("--debug-table", args.debug_table), ("--sampling-table", args.sampling_table),
                                 ("--guard-table", args.guard_table)) if on]
    if len(shortcuts) > 1 or (shortcuts and args.allocators):
        sys.exit("run.py: %s chooses the allocators; give only one of --allocators, --debug-table, "
                 "--sampling-table, --guard-table" % shortcuts[0])
    if args.stat is None:
        args.stat = "min" if args.sampling_table else "median"
    summarise = statistics.median if args.stat == "median" else min
    if args.reps is not None:
        reps = args.reps
    elif args.quick:
        reps = 2
    elif args.debug_table:
        reps = DEBUG_TABLE_REPS
    elif args.sampling_table:
        reps = SAMPLING_TABLE_REPS
    elif args.guard_table:
        reps = GUARD_TABLE_REPS
    else:
        reps = 5
    pairs = []
    if args.sampling_table:
        pairs += SAMPLING_PAIRS
    if args.guard_table:
        pairs += GUARD_PAIRS
    for item in args.pair:
        if item.count("/") != 1:
            sys.exit("run.py: --pair expects A/B, got %r" % item)
        pairs.append(tuple(item.split("/")))
    if reps < 1:
        sys.exit("run.py: --reps must be at least 1")
    scale = args.scale if args.scale is not None else (0.25 if args.quick else 1.0)
    if not scale > 0:
        sys.exit("run.py: --scale must be positive")
    env_extra = dict(parse_kv(args.env, "--env"))
    notes = []

    # ---- allocators
    known = ldconfig_libs()
    allocs = [Allocator("glibc", None)]
    skipped = []
    for name, libs in PEER_LIBS.items():
        p = find_peer(libs, known)
        if p:
            allocs.append(Allocator(name, p))
        else:
            skipped.append("%s (%s not found)" % (name, libs[0]))
    slab = os.path.abspath(args.slabdbg or os.path.join(args.build_dir, "libslabdbg.so"))
    if os.path.exists(slab):
        allocs.append(Allocator("slabdbg", os.path.abspath(slab), env_extra, check_reports=True))
    else:
        skipped.append("slabdbg (%s not found; build it or pass --slabdbg PATH)" % relpath(os.path.abspath(slab)))
    for name, path in parse_kv(args.extra, "--extra"):
        if any(a.name == name for a in allocs) or name in PEER_LIBS or name == "slabdbg":
            sys.exit("run.py: --extra name %r is already used" % name)
        if name in DEBUG_CONFIGS:
            sys.exit("run.py: --extra name %r is already used" % name)
        if os.path.exists(path):
            allocs.append(Allocator(name, os.path.abspath(path), env_extra, check_reports=True))
        else:
            skipped.append("%s (%s not found)" % (name, path))
    default_names = [a.name for a in allocs]

    # ---- the debugging configurations (only when asked for)
    build_dir = os.path.abspath(args.build_dir)
    bin_dirs = [os.path.join(build_dir, "bench"), build_dir]
    if os.path.exists(slab):
        fz_env = dict(env_extra)
        fz_env.update(FZPU_ENV)
        allocs.append(Allocator("slabdbg-fzpu", os.path.abspath(slab), fz_env, timeout_factor=5.0,
                                check_reports=True,
                                label="%s SLABDBG=FZPU" % os.path.basename(slab)))
    else:
        skipped.append("slabdbg-fzpu (%s not found)" % relpath(os.path.abspath(slab)))
    configs = dict(SLABDBG_CONFIGS)
    for item in args.config:
        name, _, rest = item.partition("=")
        if not name or not rest:
            sys.exit("run.py: --config expects NAME=K=V[,K=V...], got %r" % item)
        if name in ("glibc", "slabdbg", *PEER_LIBS, *DEBUG_CONFIGS) or any(a.name == name for a in allocs):
            sys.exit("run.py: --config name %r is already used" % name)
        configs[name] = split_config_env(rest)
        CONFIG_HELP[name] = "libslabdbg.so preloaded with " + " ".join("%s=%s" % kv for kv in configs[name].items())
    for name, cenv in configs.items():
        if os.path.exists(slab):
            guard = "G" in cenv.get("SLABDBG", "")
            allocs.append(Allocator(name, os.path.abspath(slab), merge_env(env_extra, cenv),
                                    timeout_factor=5.0 if guard else 1.0, check_reports=True,
                                    label="%s %s" % (os.path.basename(slab),
                                                     " ".join("%s=%s" % kv for kv in cenv.items()))))
        else:
            skipped.append("%s (%s not found)" % (name, relpath(os.path.abspath(slab))))
    asan_bins = [p for d in bin_dirs for p in glob.glob(os.path.join(d, "bench_asan_*")) if os.access(p, os.X_OK)]
    if asan_bins:
        cc = compiler_of(build_dir)
        allocs.append(Allocator("asan", None, ASAN_ENV, kind="asan", timeout_factor=3.0,
                                label="%s-fsanitize=address -O2, ASAN_OPTIONS=detect_leaks=0"
                                % (cc + " " if cc else "")))
    else:
        skipped.append("asan (no bench_asan_* programs under %s; the compiler needs ASan support, "
                       "e.g. gcc with libasan)" % relpath(build_dir))
    vg = shutil.which("valgrind")
    if vg:
        ver = valgrind_version(vg)
        allocs.append(Allocator("valgrind", None, kind="valgrind", tool=vg, default_reps=1,
                                timeout_factor=10.0,
                                label="memcheck%s on glibc" % (" " + ver if ver else "")))
    else:
        skipped.append("valgrind (not installed: apt-get install -y valgrind)")

    if args.allocators or shortcuts:
        if args.debug_table:
            want = list(DEBUG_TABLE)
        elif args.sampling_table:
            want = list(SAMPLING_TABLE)
        elif args.guard_table:
            want = list(GUARD_TABLE)
        else:
            want = [a.strip() for a in args.allocators.split(",") if a.strip()]
        valid = {"glibc", "slabdbg", *PEER_LIBS, *DEBUG_CONFIGS, *configs,
                 *(kv[0] for kv in parse_kv(args.extra, "--extra"))}
        bad = [a for a in want if a not in valid]
        if bad:
            sys.exit("run.py: unknown allocator(s) %s; known: %s" % (", ".join(bad), ", ".join(sorted(valid))))
    else:
        want = default_names
    by_name = {a.name: a for a in allocs}
    all_allocs, all_skipped = allocs, skipped
    allocs = [by_name[a] for a in dict.fromkeys(want) if a in by_name]
    skipped = [s for s in skipped if s.split(" ")[0] in want]
    if not allocs:
        sys.exit("run.py: no allocator to run (skipped: %s)" % "; ".join(skipped))
    reps_for = {}
    for name, v in parse_kv(args.reps_for, "--reps-for"):
        if name not in by_name and not any(s.split(" ")[0] == name for s in skipped):
            sys.exit("run.py: --reps-for: %r is not among the allocators run" % name)
        try:
            reps_for[name] = int(v)
        except ValueError:
            sys.exit("run.py: --reps-for expects NAME=N, got %s=%s" % (name, v))
        if reps_for[name] < 1:
            sys.exit("run.py: --reps-for %s must be at least 1" % name)
    for a in allocs:
        if a.name in reps_for:
            a.reps = reps_for[a.name]
        elif a.default_reps:
            a.reps = min(reps, a.default_reps)
        else:
            a.reps = reps
    max_reps = max(a.reps for a in allocs)

    # ---- workloads
    workloads = WORKLOADS
    if args.only:
        want = [w.strip() for w in args.only.split(",") if w.strip()]
        names = {w.name: w for w in WORKLOADS}
        bad = [w for w in want if w not in names]
        if bad:
            sys.exit("run.py: unknown workload(s) %s; known: %s" % (", ".join(bad), ", ".join(names)))
        workloads = [names[w] for w in want]

    for w in workloads:
        if w.kind == "c":
            exe = "bench_" + w.name.replace("-", "_")
            for d in bin_dirs:
                p = os.path.join(d, exe)
                if os.access(p, os.X_OK):
                    w.path = p
                    break
            else:
                w.missing = "%s not built" % exe
            for d in bin_dirs:
                p = os.path.join(d, "bench_asan_" + w.name.replace("-", "_"))
                if os.access(p, os.X_OK):
                    w.asan_path = p
                    break
        elif w.kind == "python":
            p = args.python
            if not p:
                # The system interpreter, not a version-manager shim (a shell
                # script would be what gets preloaded and timed).
                p = "/usr/bin/python3" if os.access("/usr/bin/python3", os.X_OK) else shutil.which("python3")
            if p and os.access(p, os.X_OK):
                w.path = os.path.abspath(p)
            else:
                w.missing = "python3 not found"
        elif w.kind == "sqlite":
            p = args.sqlite3 or shutil.which("sqlite3")
            if p and os.access(p, os.X_OK):
                w.path = os.path.abspath(p)
            else:
                w.missing = "sqlite3 not found"
    launcher = None
    for d in bin_dirs:
        p = os.path.join(d, "bench_launch")
        if os.access(p, os.X_OK):
            launcher = p
            break
    if not launcher:
        notes.append("bench_launch is not built: peak RSS cannot be lower than the runner's own")
    runnable = [w for w in workloads if not w.missing]
    if not any(w.kind == "c" for w in runnable) and any(w.kind == "c" for w in workloads):
        print(
            "run.py: the workload programs are not built in %s; build first:\n"
            "  cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo && cmake --build build -j2"
            % relpath(build_dir),
            file=sys.stderr,
        )

    if args.list:
        for w in WORKLOADS:
            print("%-14s %s%s" % (w.name, w.desc, "  [%s]" % w.missing if w.missing else ""))
        print()
        for a in all_allocs:
            mark = "" if a.name in default_names else "  (only with --allocators or --debug-table)"
            what = CONFIG_HELP.get(a.name) or (os.path.basename(a.lib) if a.lib else "system malloc")
            print("%-14s %s%s" % (a.name, what, mark))
        for s in all_skipped:
            print("not available: " + s)
        return 0

    for s in skipped:
        print("run.py: skipping allocator %s" % s, file=sys.stderr)
    for w in workloads:
        if w.missing:
            print("run.py: skipping workload %s: %s" % (w.name, w.missing), file=sys.stderr)

    base_env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
    baseline = "glibc" if any(a.name == "glibc" for a in allocs) else allocs[0].name

    # ---- run, interleaved
    results = {w.name: {a.name: [] for a in allocs} for w in runnable}
    failed = {w.name: {} for w in runnable}
    not_app = {w.name: {} for w in runnable}  # configuration -> why it has no run
    vg_diag = {}  # workload -> (lines, first line) valgrind printed
    first_fail = {}
    t_start = time.time()
    busy0, own0 = cpu_busy_seconds(), own_cpu_seconds()
    for w in runnable:
        argvs = {}  # argv of each configuration's runs
        deltas = {}  # environment changes of each configuration's runs
        for a in allocs:
            why = a.not_applicable(w)
            if why:
                not_app[w.name][a.name] = why
                continue
            argvs[a.name] = a.argv(w, scale)
            delta = dict(w.env)
            if a.lib:
                delta["LD_PRELOAD"] = a.lib
            delta.update(a.extra_env)
            deltas[a.name] = delta
        for rep in range(max_reps):
            k = rep % len(allocs)
            order = allocs[k:] + allocs[:k]
            for a in order:
                if a.name in not_app[w.name] or rep >= a.reps:
                    continue
                if a.name in failed[w.name] and not args.keep_going:
                    continue
                argv = argvs[a.name]
                r = run_once(argv, deltas[a.name], base_env, args.timeout * a.timeout_factor, launcher)
                if a.check_reports:
                    m = re.search(r"^BUG .*$", r.stderr, re.M)
                    if m:
                        r.bug_line = m.group(0).strip()
                        r.status = "BUG report" if r.ok else r.status + ", BUG report"
                        r.ok = False
                if a.kind == "valgrind":
                    diag = [ln for ln in r.stderr.splitlines() if re.match(r"==\d+== ", ln)]
                    if diag and w.name not in vg_diag:
                        vg_diag[w.name] = (len(diag), diag[0])
                results[w.name][a.name].append(r)
                if not r.ok:
                    failed[w.name].setdefault(a.name, r.status)
                    first_fail.setdefault((w.name, a.name), (r, repro_command(argv, deltas[a.name])))
                if args.verbose:
                    print(
                        "  %-14s %-12s rep %d: %s"
                        % (w.name, a.name, rep + 1,
                           "%ss %s" % (fmt_time(r.time), fmt_rss(r.rss_kib)) if r.ok else "FAIL " + r.status),
                        file=sys.stderr,
                    )
        # results must agree across allocators and repetitions
        checks = {}
        for a in allocs:
            for r in results[w.name][a.name]:
                if r.ok:
                    checks.setdefault(a.name, set()).add(r.check)
        ref = None
        if baseline in checks and len(checks[baseline]) == 1:
            ref = next(iter(checks[baseline]))
        else:
            for a in allocs:
                if a.name in checks:
                    ref = sorted(checks[a.name])[0]
                    break
        for a in allocs:
            for r in results[w.name][a.name]:
                if r.ok and r.check != ref:
                    r.ok = False
                    r.status = "wrong result"
                    failed[w.name].setdefault(a.name, r.status)
                    first_fail.setdefault((w.name, a.name), (r, repro_command(argvs[a.name], deltas[a.name])))
        summary = []
        for a in allocs:
            rs = results[w.name][a.name]
            if a.name in not_app[w.name]:
                summary.append("%s n/a" % a.name)
            elif a.name in failed[w.name]:
                summary.append("%s FAIL" % a.name)
            elif rs:
                summary.append("%s %ss" % (a.name, fmt_time(summarise([r.time for r in rs]))))
        print("[%5.0fs] %-14s %s" % (time.time() - t_start, w.name, "  ".join(summary)), file=sys.stderr)

    # ---- interference: CPU used by other processes while we measured
    busy1, own1 = cpu_busy_seconds(), own_cpu_seconds()
    wall = time.time() - t_start
    foreign = None
    if busy0 is not None and busy1 is not None and wall > 0:
        foreign = max(0.0, (busy1 - busy0) - (own1 - own0)) / (wall * (os.cpu_count() or 1))
        if foreign > 0.05:
            notes.append(
                "other processes kept %.0f%% of the machine's CPU time busy during the measurements; "
                "the timings are disturbed, rerun on a quiet machine" % (100 * foreign)
            )

    # ---- table
    header = ["workload"]
    for a in allocs:
        header += ["%s time" % a.name, "%s RSS" % a.name]
    rows = []
    ratios = {a.name: ([], []) for a in allocs}
    counted = {a.name: 0 for a in allocs}
    med = {}
    for w in runnable:
        for a in allocs:
            rs = results[w.name][a.name]
            if a.name not in failed[w.name] and rs:
                med[(w.name, a.name)] = (
                    summarise([r.time for r in rs]),
                    summarise([r.rss_kib for r in rs]),
                )
    for w in runnable:
        row = [w.name]
        base = med.get((w.name, baseline))
        for a in allocs:
            m = med.get((w.name, a.name))
            if a.name in not_app[w.name]:
                row += ["n/a", "n/a"]
                continue
            if m is None:
                why = failed[w.name].get(a.name, "")
                row += ["FAIL (%s)" % why if why else "FAIL", ""]
                continue
            t, rss = m
            if base and a.name != baseline:
                tr, rr = t / base[0], rss / base[1]
                ratios[a.name][0].append(tr)
                ratios[a.name][1].append(rr)
                counted[a.name] += 1
                row += ["%s (%s)" % (fmt_time(t), fmt_ratio(tr)), "%s (%s)" % (fmt_rss(rss), fmt_ratio(rr))]
            else:
                row += [fmt_time(t), fmt_rss(rss)]
        rows.append(row)
    gm = ["geomean"]
    for a in allocs:
        if a.name == baseline:
            gm += ["1.00", "1.00"]
        elif ratios[a.name][0]:
            note = "" if counted[a.name] == len(runnable) else " [%d/%d]" % (counted[a.name], len(runnable))
            gm += [fmt_ratio(geomean(ratios[a.name][0])) + note, fmt_ratio(geomean(ratios[a.name][1])) + note]
        else:
            gm += ["-", "-"]
    rows.append(gm)

    results_names = {a.name for a in allocs}
    libs = ", ".join("%s=%s" % (a.name, a.describe()) for a in allocs)
    envs = " ".join("%s=%s" % kv for kv in env_extra.items())
    odd = [a for a in allocs if a.reps != max_reps]
    rep_text = "%d rep(s)" % max_reps
    if odd:
        rep_text += " (%s)" % ", ".join("%s %d" % (a.name, a.reps) for a in odd)
    info = (
        "%s, scale %g, %d CPU(s); %s wall time in seconds and %s peak RSS, "
        "(ratio to %s); %s%s"
        % (rep_text, scale, os.cpu_count() or 0, args.stat, args.stat, baseline, libs, "; env for slabdbg/extra: " + envs if envs else "")
    )
    if args.markdown:
        print(info + "\n")
        print(render(rows, header, True))
    else:
        print(info)
        print(render(rows, header, False))
    for pa, pb in pairs:
        if pa not in results_names or pb not in results_names:
            continue
        ph = ["workload", "%s time" % pa, "%s time" % pb, "ratio", "paired ratio [95% interval]",
              "%s RSS" % pa, "%s RSS" % pb, "extra RSS"]
        prow, tr_all, dr_all = [], [], []
        for w in runnable:
            ma, mb = med.get((w.name, pa)), med.get((w.name, pb))
            if not ma or not mb:
                prow.append([w.name] + ["-"] * (len(ph) - 1))
                continue
            ra = [r for r in results[w.name][pa] if r.ok]
            rb = [r for r in results[w.name][pb] if r.ok]
            paired = [b.time / a.time for a, b in zip(ra, rb)]
            ci = median_ci(paired)
            pm = statistics.median(paired) if paired else None
            tr = mb[0] / ma[0]
            dmib = (mb[1] - ma[1]) / 1024.0
            tr_all.append(tr)
            dr_all.append(dmib)
            prow.append([w.name, fmt_time(ma[0]), fmt_time(mb[0]), "%.3f" % tr,
                         ("%.3f [%.3f, %.3f]" % (pm, ci[0], ci[1]) if ci else "%.3f" % pm) if pm else "-",
                         fmt_rss(ma[1]), fmt_rss(mb[1]), "%+.2f MiB" % dmib])
        if tr_all:
            prow.append(["geomean / mean", "", "", "%.3f" % geomean(tr_all), "", "", "",
                         "%+.2f MiB (max %+.2f)" % (sum(dr_all) / len(dr_all), max(dr_all))])
        print("\n%s against %s: %s time and %s peak RSS of each; ratio = %s/%s of those; paired ratio = "
              "median of the per-repetition ratios (runs of the same repetition, interleaved) with a "
              "distribution-free 95%% interval; extra RSS = %s - %s\n"
              % (pb, pa, args.stat, args.stat, pb, pa, pb, pa))
        print(render(prow, ph, args.markdown))
    if skipped:
        print(("\n" if args.markdown else "") + "skipped allocators: " + "; ".join(skipped))
    for a in allocs:
        na = [(wn, why) for wn, per in not_app.items() for an, why in per.items() if an == a.name]
        if na:
            # group the reasons, joining the programs named in parentheses
            whys = {}
            for wn, why in na:
                m = re.match(r"(.*) \((.*)\)(.*)$", why)
                key = (m.group(1), m.group(3)) if m else (why, "")
                whys.setdefault(key, ([], []))
                whys[key][0].append(wn)
                if m:
                    whys[key][1].append(m.group(2))
            parts = []
            for (head, tail), (ws, progs) in whys.items():
                parts.append("%s: %s%s%s" % (", ".join(ws), head, " (%s)" % ", ".join(progs) if progs else "", tail))
            print("note: %s is n/a for %s; %s left out of the %s geometric mean"
                  % (a.name, "; ".join(parts), "it is" if len(na) == 1 else "they are", a.name))
    for wn, (n, first) in vg_diag.items():
        print("note: valgrind printed %d diagnostic line(s) for %s (not counted as a failure, "
              "--error-exitcode=0); first: %s" % (n, wn, first))
    for n in notes:
        print("note: " + n)
    missing = [w for w in workloads if w.missing]
    if missing:
        print("skipped workloads: " + "; ".join("%s (%s)" % (w.name, w.missing) for w in missing))

    if first_fail:
        print("\nFailures (first failing run of each workload/allocator):")
        for (wn, an), (r, cmd) in first_fail.items():
            print("- %s under %s: %s" % (wn, an, r.status))
            if r.bug_line:
                print("  first report: %s" % r.bug_line)
            print("  reproduce: %s" % cmd)
            tail = (r.stderr.strip() or r.stdout.strip())[-600:]
            if tail:
                for ln in tail.splitlines()[-6:]:
                    print("    | " + ln)

    # ---- raw results
    data = {
        "date": datetime.datetime.now().isoformat(timespec="seconds"),
        "reps": max_reps,
        "stat": args.stat,
        "scale": scale,
        "cpus": os.cpu_count(),
        "baseline": baseline,
        "allocators": {a.name: os.path.basename(a.lib) if a.lib else None for a in allocs},
        "configurations": {
            a.name: {"kind": a.kind, "describe": a.describe(), "env": a.extra_env, "reps": a.reps,
                     "timeout": args.timeout * a.timeout_factor}
            for a in allocs
        },
        "env": env_extra,
        "foreign_cpu_share": foreign,
        "runs": {
            wn: {
                an: [
                    {"ok": r.ok, "time": r.time, "cpu": r.cpu, "rss_kib": r.rss_kib,
                     "status": r.status, "check": r.check}
                    for r in rs
                ]
                for an, rs in per.items()
            }
            for wn, per in results.items()
        },
        "not_applicable": {wn: per for wn, per in not_app.items() if per},
        "pairs": [[pa, pb] for pa, pb in pairs],
    }
    if not args.no_save:
        path = args.json
        if not path:
            stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
            path = os.path.join(BENCH_DIR, "results", "run-%s.json" % stamp)
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        with open(path, "w") as f:
            json.dump(data, f, indent=1)
        print("run.py: raw results in %s" % relpath(os.path.abspath(path)), file=sys.stderr)
    if args.plot:
        written = write_plots(plt, args.plot, data)
        print("run.py: charts in %s: %s" % (args.plot, ", ".join(written) or "none (one configuration)"),
              file=sys.stderr)
    return 1 if first_fail else 0


if __name__ == "__main__":
    sys.exit(main())
