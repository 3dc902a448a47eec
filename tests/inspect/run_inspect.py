#!/usr/bin/env python3
"""The inspection commands on a live process and on a core of the same state.

Cases (--case):
  plain, U, FZPU  progs/heapstate.c under those flags: whatis, slabinfo,
                  alloc/free_traces, leaks on its pid, then on a core of the
                  same moment (gdb's gcore); each field checked, and the two
                  outputs equal but for the ages (a core's clock is not known)
  bad_input       wrong pid, no slabdbg in the process, not a core, a core of
                  another machine, a core without slabdbg, an address not ours,
                  no permission: one line each, non-zero exit
  truncated       a core cut at random points: a clear line or a result,
                  never a crash
  seed_core       the seed's plain crash (no debug flag) explained from its core
  biglist, biglist_FZPU
                  progs/biglist.c: 200,000 nodes of every size class (huge ones,
                  sampled ones, one aligned beyond the segment size, two
                  threads' caches) in one chain, beside 100 leaked objects:
                  leaks on its pid (and its core for biglist) finds exactly
                  those, by count and bytes
  exit_leaks      SLABDBG_OPTIONS=leaks=1: biglist's 100 leaks found at exit,
                  exactly (status 23, leak_exitcode=0, suppressions by
                  function name); python3, sqlite3 and git (--version, status)
                  plain and under FZPU: no false leak (each skipped when
                  missing)
  validate, validate_FZPU
                  progs/corrupt.c: a write after free and a write past the end
                  planted under FZPU, and a clean heap (plain and FZPU):
                  validate on the pid and its core reports each in SLUB's
                  format (exit 1), the clean one clean (exit 0)
Exit 77: skipped (no gdb to write cores with).
"""
import argparse
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

FAIL = []


def check(cond, what):
    if not cond:
        FAIL.append(what)
        print("FAIL:", what)


def run(cmd, **kw):
    kw.setdefault("timeout", 60)
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def core_limit():
    import resource
    resource.setrlimit(resource.RLIMIT_CORE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))


def kernel_cores():
    """Does the kernel write cores into the working directory?"""
    pattern = open("/proc/sys/kernel/core_pattern").read().strip()
    return not pattern.startswith("|") and not pattern.startswith("/")


def start(args, flags, cwd=None):
    cmd = [args.slabdbg, "run"] + (["-d", flags] if flags else []) + ["--", args.prog]
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=cwd,
                         preexec_fn=core_limit)
    addrs = []
    for line in p.stdout:
        if line.startswith("READY"):
            break
        f = line.split()
        if f and f[0] == "ADDR":
            addrs.append((f[1], int(f[2], 16), int(f[3])))
    # the program itself, not the run wrapper
    pid = None
    for _ in range(50):
        out = run(["pgrep", "-n", "-P", str(p.pid)]).stdout.split()
        if out:
            pid = int(out[0])
            break
        time.sleep(0.05)
    return p, pid or p.pid, addrs


def gcore(pid, path):
    r = run(["gdb", "-q", "-batch", "-p", str(pid), "-ex", "gcore " + path], timeout=60)
    return os.path.exists(path)


def normalize(text):
    text = re.sub(r" (age|at)=[0-9./s]+", " AGE", text)
    return "\n".join(l for l in text.splitlines() if not l.startswith("# ages in ms"))


def inspect(args, target, addrs):
    """Every command on one target; returns {command: output}."""
    out = {}
    r = run([args.slabdbg, "whatis"] + [hex(a) for _, a, _ in addrs] + ["0x10"] + target)
    check(r.returncode == 1, "whatis of 0x10 (not ours) exits 1 %s" % target)
    out["whatis"] = r.stdout
    for cmd in ("slabinfo", "alloc_traces", "free_traces", "leaks"):
        r = run([args.slabdbg, cmd] + target)
        check(r.returncode in (0, 1) and (cmd == "leaks" or r.returncode == 0),
              "%s on %s: exit %d %s" % (cmd, target, r.returncode, r.stderr.strip()))
        out[cmd] = r.stdout
    return out


def check_fields(out, addrs, flags, where):
    w = out["whatis"].split("\n\n0x")
    blocks = {}
    for b in out["whatis"].split("\n0x"):
        m = re.match(r"(?:0x)?([0-9a-f]+): (.*)", b)
        if m:
            blocks[int(m.group(1), 16)] = b
    for kind, a, size in addrs:
        b = blocks.get(a, "")
        head = b.split("\n")[0]
        check(b, "%s: whatis 0x%x answered" % (where, a))
        if kind == "huge":
            check("huge object 0x%x +0x0" % a in head and "allocated" in head,
                  "%s: huge 0x%x: %s" % (where, a, head))
            check("requested: %d bytes" % size in b, "%s: huge size" % where)
            continue
        check("object 0x%x +0x0 (object)" % a in head, "%s: 0x%x is an object start: %s" % (where, a, head))
        if kind == "freed":
            check(", free" in head, "%s: 0x%x freed: %s" % (where, a, head))
        else:
            check(head.endswith("allocated"), "%s: 0x%x allocated: %s" % (where, a, head))
        if "U" in flags or "FZPU" in flags:
            check("requested: %d bytes" % size in b, "%s: 0x%x requested %d" % (where, a, size))
        if "U" in flags and kind != "freed":
            check("Allocated in " in b, "%s: 0x%x has its alloc track" % (where, a))
        if kind == "leak" and "U" in flags:
            check("Allocated in leak_some+" in b, "%s: leak allocated in leak_some" % where)
    check("0x10: not slabdbg's memory" in out["whatis"], "%s: 0x10 not ours" % where)
    si = out["slabinfo"]
    check("slabinfo - version: 2.1" in si and "kmalloc-80" in si and "# huge objects: 1 live"
          in si, "%s: slabinfo lines" % where)
    leaks = out["leaks"]
    nleak = sum(1 for k, _, _ in addrs if k == "leak")
    check("slabdbg leaks: %d unreachable objects" % nleak in leaks,
          "%s: exactly the %d leaks: %s" % (where, nleak, leaks.strip().splitlines()[-1:]))
    check("kmalloc-80" in leaks, "%s: the leaks are kmalloc-80 objects" % where)
    if "U" in flags:
        check("leak_some+" in leaks, "%s: leaks grouped by their stack" % where)
        check("# kmalloc-80 alloc_traces" in out["alloc_traces"] and
              "leak_some+" in out["alloc_traces"], "%s: alloc_traces" % where)


def take_core(p, pid, tmp):
    """A core of the program as it is now: the kernel's (it aborts, having
    done nothing since), or gdb's gcore when cores go elsewhere."""
    if kernel_cores():
        p.stdin.write("abort\n")
        p.stdin.flush()
        p.wait(timeout=30)
        cores = [f for f in os.listdir(tmp) if f.startswith("core")]
        if cores:
            return os.path.join(tmp, cores[0])
    core = os.path.join(tmp, "core.gdb")
    return core if shutil.which("gdb") and gcore(pid, core) else None


def case_heap(args, flags):
    tmp = tempfile.mkdtemp()
    p, pid, addrs = start(args, flags, cwd=tmp)
    try:
        live = inspect(args, ["--pid", str(pid)], addrs)
        core = take_core(p, pid, tmp)
        if not core:
            print("skipped: no core could be written")
            return 77
        dead = inspect(args, ["--core", core, "--exe", args.prog], addrs)
    finally:
        if p.poll() is None:
            p.stdin.close()
            p.wait(timeout=30)
    check_fields(live, addrs, flags, "pid")
    check_fields(dead, addrs, flags, "core")
    for cmd in live:
        a, b = normalize(live[cmd]), normalize(dead[cmd])
        if cmd == "slabinfo":  # the pid line: gcore keeps it
            pass
        check(a == b, "%s: the same on the pid and on its core" % cmd)
        if a != b:
            import difflib
            print("\n".join(list(difflib.unified_diff(a.splitlines(), b.splitlines(), lineterm=""))[:40]))
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


def one_line_error(r, what, pattern):
    lines = r.stderr.strip().splitlines()
    check(r.returncode != 0 and r.returncode < 128, "%s: non-zero exit, no crash (%d)" % (what, r.returncode))
    check(len(lines) == 1 and re.search(pattern, lines[0] if lines else ""),
          "%s: one line matching %r: %r" % (what, pattern, r.stderr.strip()))


def case_bad_input(args):
    tmp = tempfile.mkdtemp()
    r = run([args.slabdbg, "slabinfo", "--pid", "999999999"])
    one_line_error(r, "wrong pid", "no such process")
    sl = subprocess.Popen(["sleep", "30"])
    try:
        time.sleep(0.2)
        r = run([args.slabdbg, "whatis", "0x1000", "--pid", str(sl.pid)])
        one_line_error(r, "no slabdbg", "does not run slabdbg")
        core = os.path.join(tmp, "plain.core")
        if shutil.which("gdb") and gcore(sl.pid, core):
            r = run([args.slabdbg, "slabinfo", "--core", core])
            one_line_error(r, "core without slabdbg", "does not run slabdbg")
            data = bytearray(open(core, "rb").read(4096))
            data[18:20] = (183).to_bytes(2, "little")  # EM_AARCH64
            arm = os.path.join(tmp, "arm.core")
            with open(arm, "wb") as f:
                f.write(data)
            r = run([args.slabdbg, "leaks", "--core", arm])
            one_line_error(r, "core of another machine", "aarch64.*x86-64")
        if shutil.which("setpriv") and os.getuid() == 0:
            r = run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                     args.slabdbg, "slabinfo", "--pid", str(sl.pid)])
            one_line_error(r, "no permission", "no permission|does not run|no such")
    finally:
        sl.kill()
        sl.wait()
    r = run([args.slabdbg, "slabinfo", "--core", args.prog])
    one_line_error(r, "not a core", "not a core")
    r = run([args.slabdbg, "slabinfo", "--core", os.path.join(tmp, "missing")])
    one_line_error(r, "no file", "No such file")
    p, pid, addrs = start(args, "")
    try:
        r = run([args.slabdbg, "whatis", "0x10", "--pid", str(pid)])
        check(r.returncode == 1 and "not slabdbg's memory" in r.stdout, "address not ours")
        r = run([args.slabdbg, "whatis", "nonsense", "--pid", str(pid)])
        check(r.returncode == 2 and "not an address" in r.stderr, "not an address")
    finally:
        p.stdin.close()
        p.wait(timeout=30)
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


def case_truncated(args):
    tmp = tempfile.mkdtemp()
    p, pid, addrs = start(args, "U", cwd=tmp)
    try:
        core = take_core(p, pid, tmp)
        if not core:
            return 77
    finally:
        if p.poll() is None:
            p.stdin.close()
            p.wait(timeout=30)
    data = open(core, "rb").read()
    rnd = random.Random(int(os.environ.get("SEED", "10")))
    cuts = sorted({0, 1, 63, 64, 4096} | {rnd.randrange(len(data)) for _ in range(12)})
    cut = os.path.join(tmp, "cut.core")
    for n in cuts:
        with open(cut, "wb") as f:
            f.write(data[:n])
        for cmd in (["whatis", hex(addrs[0][1])], ["slabinfo"], ["leaks"], ["explain"]):
            r = run([args.slabdbg] + cmd + ["--core", cut, "--exe", args.prog], timeout=60)
            check(0 <= r.returncode < 128, "cut at %d: %s crashed (%d)" % (n, cmd[0], r.returncode))
            if r.returncode:
                check(len(r.stderr.strip().splitlines()) <= 1,
                      "cut at %d: %s: one line: %r" % (n, cmd[0], r.stderr[:300]))
    # a core whose bytes are garbled here and there
    for k in range(6):
        b = bytearray(data)
        for _ in range(200):
            i = rnd.randrange(len(b))
            b[i] = rnd.randrange(256)
        with open(cut, "wb") as f:
            f.write(b)
        r = run([args.slabdbg, "leaks", "--core", cut, "--exe", args.prog], timeout=60)
        check(0 <= r.returncode < 128, "garbled core %d: leaks crashed (%d)" % (k, r.returncode))
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


def case_seed_core(args):
    tmp = tempfile.mkdtemp()
    pattern = open("/proc/sys/kernel/core_pattern").read().strip()
    core = None
    if not pattern.startswith("|") and not pattern.startswith("/"):
        subprocess.run("ulimit -c unlimited && exec %s run -- %s" % (args.slabdbg, args.seed),
                       shell=True, cwd=tmp, capture_output=True)
        cores = [f for f in os.listdir(tmp) if f.startswith("core")]
        core = os.path.join(tmp, cores[0]) if cores else None
    if not core and shutil.which("gdb"):
        run(["gdb", "-q", "-batch", "-ex", "set environment LD_PRELOAD=" + args.lib, "-ex", "run",
             "-ex", "generate-core-file " + os.path.join(tmp, "core"), args.seed])
        core = os.path.join(tmp, "core") if os.path.exists(os.path.join(tmp, "core")) else None
    if not core:
        print("skipped: no core could be written")
        return 77
    r = run([args.slabdbg, "explain", "--core", core, "--exe", args.seed, "--type",
             "request+scsi_cmnd", "--src", args.seed_src])
    out = r.stdout
    check(r.returncode == 0, "explain --core exits 0 (%d: %s)" % (r.returncode, r.stderr))
    check(re.search(r"kmalloc-1024 object 0x[0-9a-f]+ \+0x2c8 \(object\), allocated", out),
          "the object and offset 0x2c8 named")
    check("fault address 0x106" in out, "the fault address")
    check("held 0x106" in out, "the bad value found in the object")
    check("scsi_cmnd.SCp.phase" in out, "the field SCp.phase")
    check("DRV_OWNER_FIRMWARE" in out, "the constant DRV_OWNER_FIRMWARE")
    check("kfree_skb_list" in out, "the faulting function")
    r = run([args.slabdbg, "explain", "--core", core, "--exe", args.seed, "--json"])
    check(r.returncode == 0 and r.stdout.lstrip().startswith("{"), "explain --core --json")
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


def case_biglist(args, flags):
    objects = 200000 if not flags else 50000
    cmd = [args.slabdbg, "run"] + (["-d", flags] if flags else []) + ["--", args.biglist,
                                                                        str(objects), "100"]
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    pid = nleak = leak_bytes = None
    for line in p.stdout:
        f = line.split()
        if f and f[0] == "LEAKS":
            nleak, leak_bytes = int(f[1]), int(f[2])
        if f and f[0] == "READY":
            pid = int(f[1])
            break
    want = "slabdbg leaks: %d unreachable objects, %d bytes" % (nleak, leak_bytes)
    tmp = tempfile.mkdtemp()
    try:
        r = run([args.slabdbg, "leaks", "--pid", str(pid)], timeout=300)
        last = r.stdout.strip().splitlines()[-1:]
        check(r.returncode == 1 and want in r.stdout,
              "pid: exactly the %d leaks: %s %s" % (nleak, last, r.stderr.strip()))
        if "U" in flags:
            # the huge ones apart: they keep no stack
            check("in 2 groups" in r.stdout and "in 98 objects (several caches" in r.stdout
                  and "leak_some+" in r.stdout, "pid: the leaks grouped by leak_some's stack")
        core = os.path.join(tmp, "core")
        if not flags and shutil.which("gdb") and gcore(pid, core):
            r = run([args.slabdbg, "leaks", "--core", core, "--exe", args.biglist], timeout=300)
            last = r.stdout.strip().splitlines()[-1:]
            check(r.returncode == 1 and want in r.stdout,
                  "core: exactly the %d leaks: %s %s" % (nleak, last, r.stderr.strip()))
    finally:
        p.stdin.close()
        p.wait(timeout=60)
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


def case_validate(args, flags):
    """validate on a pid and its core: a planted corruption found, in SLUB's
    format, a clean heap clean."""
    kinds = ["clean", "uaf", "overflow"] if flags else ["clean"]
    expect = {"uaf": ("BUG kmalloc-64 (Not tainted): Poison overwritten",
                      "First byte 0x58 instead of 0x6b"),
              "overflow": ("BUG kmalloc-48 (Not tainted): kmalloc Redzone overwritten",
                           "First byte 0x58 instead of 0xcc")}
    tmp = tempfile.mkdtemp()
    try:
        for kind in kinds:
            cmd = [args.slabdbg, "run"] + (["-d", flags] if flags else []) + ["--", args.corrupt,
                                                                                kind]
            p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            pid = obj = None
            for line in p.stdout:
                f = line.split()
                if f and f[0] == "ADDR":
                    obj = f[2]
                if f and f[0] == "READY":
                    pid = int(f[1])
                    break
            targets = [["--pid", str(pid)]]
            core = os.path.join(tmp, "core." + kind)
            if shutil.which("gdb") and gcore(pid, core):
                targets.append(["--core", core, "--exe", args.corrupt])
            for target in targets:
                r = run([args.slabdbg, "validate"] + target)
                where = "%s %s %s" % (flags or "plain", kind, target[0])
                if kind == "clean":
                    check(r.returncode == 0 and "slabdbg validate: 0 problems" in r.stdout,
                          "%s: clean (%d) %s" % (where, r.returncode, r.stdout[-300:]))
                    continue
                check(r.returncode == 1 and "slabdbg validate: 1 problem in" in r.stdout,
                      "%s: one problem, exit 1 (%d)" % (where, r.returncode))
                for text in expect[kind]:
                    check(text in r.stdout, "%s: %r" % (where, text))
                check("Object %s @offset=" % obj in r.stdout, "%s: the object named" % where)
                check("Allocated in main+" in r.stdout, "%s: its allocation track" % where)
                check(("FIX kmalloc-%s: not repaired" % ("64" if kind == "uaf" else "48"))
                      in r.stdout, "%s: the FIX line" % where)
            p.stdin.close()
            p.wait(timeout=30)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


def case_exit_leaks(args):
    """SLABDBG_OPTIONS=leaks=1: the check at exit, inside the process."""
    env = dict(os.environ, LD_PRELOAD=args.lib)
    env.pop("SLABDBG", None)

    def biglist(options, flags=""):
        e = dict(env, SLABDBG_OPTIONS=options, SLABDBG=flags)
        return subprocess.run([args.biglist, "20000", "100"], input="", capture_output=True,
                              text=True, env=e, timeout=120)

    for flags in ("", "FZPU"):
        r = biglist("leaks=1", flags)
        m = re.search(r"LEAKS (\d+) (\d+)", r.stdout)
        want = "slabdbg leaks: %s unreachable objects, %s bytes" % (m.group(1), m.group(2))
        check(r.returncode == 23 and want in r.stderr,
              "biglist %s: exactly its leaks at exit, status 23 (%d): %s" %
              (flags or "plain", r.returncode, r.stderr.strip().splitlines()[-1:]))
        if flags:
            check("leak_some+" in r.stderr, "FZPU: the leaks' allocation stack")
    r = biglist("leaks=1:leak_exitcode=0")
    check(r.returncode == 0 and "unreachable objects" in r.stderr, "leak_exitcode=0 keeps the status")
    supp = tempfile.NamedTemporaryFile("w", suffix=".supp", delete=False)
    supp.write("# the test's own leaks\nleak:leak_some\n")
    supp.close()
    r = biglist("leaks=1:leak_suppressions=" + supp.name, "U")
    os.unlink(supp.name)
    # the two huge ones keep no stack, so no name suppresses them
    check(r.returncode == 23 and "leak_some" not in r.stderr and
          "slabdbg leaks: 2 unreachable objects" in r.stderr,
          "suppressed by function name (%d): %s" % (r.returncode, r.stderr[-300:]))

    # Real programs: no false leak.
    tmp = tempfile.mkdtemp()
    python = run([sys.executable, "-c", "import sys; print(sys.executable)"]).stdout.strip()
    progs = [("python3", [python, "-c", "print(1)"], None),
             ("python3 json/sqlite3", [python, "-c",
                                       "import json, sqlite3; print(json.dumps([1]))"], None),
             ("sqlite3", ["sqlite3", ":memory:"],
              "create table t(a, b); insert into t values (1, 'x'), (2, 'y');\n"
              "create index i on t(b); select count(*), group_concat(b) from t;\n"),
             ("git --version", ["git", "--version"], None),
             ("git status", ["git", "status", "--short"], None)]
    if shutil.which("git"):
        subprocess.run("git init -q && echo a > a && git add a && git -c user.name=t "
                       "-c user.email=t@t commit -qm a && echo b > b", shell=True, cwd=tmp)
    ran = 0
    for flags in ("", "FZPU"):
        for name, cmd, stdin in progs:
            if not shutil.which(cmd[0]) and not os.path.exists(cmd[0]):
                print("skipped: %s (not installed)" % name)
                continue
            e = dict(env, SLABDBG_OPTIONS="leaks=1", SLABDBG=flags)
            r = subprocess.run(cmd, input=stdin or "", capture_output=True, text=True, env=e,
                               cwd=tmp, timeout=120)
            ran += 1
            check(r.returncode == 0 and "unreachable" not in r.stderr and "BUG" not in r.stderr,
                  "%s %s: no false leak (%d): %s" % (name, flags or "plain", r.returncode,
                                                     r.stderr[-600:]))
    shutil.rmtree(tmp, ignore_errors=True)
    print("%d real program runs" % ran)
    return 0


def main():
    ap = argparse.ArgumentParser()
    for a in ("slabdbg", "lib", "prog", "biglist", "corrupt", "seed", "seed-src", "case"):
        ap.add_argument("--" + a, required=True)
    args = ap.parse_args()
    if args.case in ("plain", "U", "FZPU"):
        st = case_heap(args, "" if args.case == "plain" else args.case)
    elif args.case == "exit_leaks":
        st = case_exit_leaks(args)
    elif args.case.startswith("validate"):
        st = case_validate(args, args.case[len("validate_"):])
    elif args.case.startswith("biglist"):
        st = case_biglist(args, args.case[len("biglist_"):])
    else:
        st = {"bad_input": case_bad_input, "truncated": case_truncated,
              "seed_core": case_seed_core}[args.case](args)
    if st == 77:
        return 77
    print("%d failure(s)" % len(FAIL))
    return 1 if FAIL else 0


if __name__ == "__main__":
    sys.exit(main())
