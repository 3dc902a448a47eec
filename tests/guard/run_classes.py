#!/usr/bin/env python3
"""What one configuration catches, per bug class and object size.

    run_classes.py --bindir DIR --lib LIB --workdir DIR [--slabdbg VALUE]
                   [--options K=V:K=V] [--expect FILE] [--write-expect FILE]
    run_classes.py ... --selftest --expect-dir DIR

Runs progs/heapbug.c once per cell of a matrix (classes x sizes) under
LD_PRELOAD, with SLABDBG set to --slabdbg (unset without it) and
SLABDBG_OPTIONS=json=FILE plus --options (sample_rate=0 unless given, so
that the one object is never sampled by chance).  stdout and stderr go to
one pipe, so the program's "before" / "after" lines and the report's "BUG"
lines come out in the order they happened.  Each cell is one of:

  instr   a report of the class's kind came out during the bad operation:
          between "before" and "after", or the process stopped there
          ("after" never printed)
  later   a report of the class's kind, after the bad operation went
          through (a red zone found at free, poison at exit)
  missed  no report of the class's kind, and the program ran to "done"
  false   the clean program was reported
  crash   the process died (signal, or no "done") without such a report
  ok      the clean program ran to "done" unreported

and gets a "!" when a check failed; the failures are listed under the
table.  Checks of each report of the class's kind:
  - its cache is kmalloc-<class size of SIZE> (frees of stack or static
    memory: none asked);
  - accesses: the faulting address is object + SIZE + DISTANCE (overflows),
    object - DISTANCE - 1 (underflows), object + DISTANCE (use after free),
    whether the JSON gives it as address, object and distance (guard
    reports) or as fault_start and offset (red zones and poison);
    bad frees: the pointer is the one freed;
  - the allocation and free tracks, when the report has them (they must
    when SLABDBG has U or G, except for frees of a pointer SLUB ties to no
    object: interior, stack, static), name main of heapbug.c;
  - a report made during the bad operation was found by main.
Any report of another kind is a failed check too, as is a report of the
clean program.

--expect FILE compares with a TSV of class, size, cell (`*`: anything;
lines starting with # are comments) and fails on any difference, and on a
cell of the matrix the file does not have.  --write-expect FILE writes
what the run found.  --selftest runs sabotaged configurations (detection
switched off, an expectation swapped, a wrong cache table, a buggy clean
program, the stacks expected in another function) and fails unless every
one is rejected.
"""

import argparse
import concurrent.futures
import os
import re
import subprocess
import sys

from run_guard import no_core, read_json_reports  # the guard cases' runner, beside this one

CLASSES = ["overflow-write", "overflow-read", "underflow-write", "underflow-read",
           "uaf-write", "uaf-read", "double-free", "interior-free", "stack-free",
           "static-free", "realloc-freed", "clean"]
SIZES = [1, 7, 13, 16, 50, 64, 100, 1000, 1024, 4000, 4096, 5000, 8192, 12000]

# The report kinds (JSON "kind", and "what" for overwritten bytes) that
# name each class.
KINDS = {
    "overflow-write": {"out_of_bounds_write_right", "overwritten:Right Redzone",
                       "overwritten:kmalloc Redzone"},
    "overflow-read": {"out_of_bounds_read_right"},
    "underflow-write": {"out_of_bounds_write_left", "overwritten:Left Redzone"},
    "underflow-read": {"out_of_bounds_read_left"},
    "uaf-write": {"use_after_free_write", "overwritten:Poison", "overwritten:End Poison"},
    "uaf-read": {"use_after_free_read"},
    "double-free": {"already_free", "double_free"},
    "interior-free": {"invalid_pointer", "invalid_free"},
    "stack-free": {"outside_slab"},
    "static-free": {"outside_slab"},
    "realloc-freed": {"already_free", "double_free"},
    "clean": set(),
}
ACCESS = {"overflow-write", "overflow-read", "underflow-write", "underflow-read",
          "uaf-write", "uaf-read"}
TRACKED = {"uaf-write", "uaf-read", "double-free", "realloc-freed"}  # have a free track


def default_distance(cls, size):
    """Overflows and underflows: the first byte out.  Use after free and
    interior frees: the middle of the object, clear of the free list's two
    words where the object has more."""
    if cls in ("uaf-write", "uaf-read"):
        return size // 2 if size >= 32 else size - 1
    if cls == "interior-free":
        return max(1, size // 2)
    return 0


def class_size(n):
    """src/core/internal.h: size_class() and class_size(), CLASS_BITS 3."""
    if n <= 8:
        return 8
    if n <= 128:
        return (n + 15) & ~15
    k = (n - 1).bit_length() - 1
    step = 1 << (k - 3)
    return (n + step - 1) // step * step


def cache_name(size, table=class_size):
    return "kmalloc-%d" % table(size)


def kind_of(rep):
    k = rep.get("kind")
    return "overwritten:" + str(rep.get("what")) if k == "overwritten" else k


def as_int(v):
    if isinstance(v, str):
        try:
            return int(v, 0)
        except ValueError:
            return None
    return v


class Config:
    def __init__(self, slabdbg=None, options=None, table=class_size, func="main",
                 clean_prog="clean"):
        self.slabdbg = slabdbg
        self.options = dict(options or {})
        self.options.setdefault("sample_rate", "0")
        self.table = table            # size -> class size expected in the cache name
        self.func = func              # the function the stacks must name
        self.clean_prog = clean_prog  # the class the clean row runs

    def tracked(self):
        v = (self.slabdbg or "").split(",")[0].upper()
        return "U" in v or "G" in v or (self.slabdbg == "")


def run_cell(args, cfg, cls, size, tag):
    dist = default_distance(cls, size)
    name = "%s-%s-%d" % (tag, cls, size)
    jpath = os.path.join(args.workdir, name + ".json")
    if os.path.exists(jpath):
        os.unlink(jpath)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLABDBG") and k != "LD_PRELOAD"}
    env["LD_PRELOAD"] = args.lib
    if cfg.slabdbg is not None:
        env["SLABDBG"] = cfg.slabdbg
    env["SLABDBG_OPTIONS"] = ":".join(["json=" + jpath] +
                                      ["%s=%s" % kv for kv in cfg.options.items()])
    prog = cfg.clean_prog if cls == "clean" else cls
    cmd = [os.path.join(args.bindir, "heapbug"), prog, str(size), str(dist)]
    try:
        p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           timeout=60, preexec_fn=no_core, text=True, errors="replace")
        rc, out = p.returncode, p.stdout
    except subprocess.TimeoutExpired as e:
        rc, out = "timeout", (e.stdout or b"").decode(errors="replace")
    reports, jerr = read_json_reports(jpath)
    if jerr:
        jerr = "JSON line: " + jerr
    with open(os.path.join(args.workdir, name + ".out"), "w") as f:
        f.write("$ %s\nexit %s\n%s" % (" ".join(cmd), rc, out))
    return classify(cfg, cls, size, dist, rc, out, reports, jerr)


def check_report(cfg, cls, size, dist, rep, obj, fails):
    kind = kind_of(rep)
    if cls not in ("stack-free", "static-free"):
        want = cache_name(size, cfg.table)
        if rep.get("cache") != want:
            fails.append("%s: cache %r, expected %r" % (kind, rep.get("cache"), want))
    if cls in ACCESS and obj is not None:
        if cls.startswith("overflow"):
            want_addr = obj + size + dist
        elif cls.startswith("underflow"):
            want_addr = obj - dist - 1
        else:
            want_addr = obj + dist
        if rep.get("kind") == "overwritten":
            base = as_int(rep.get("object"))
            got = base + rep.get("offset", 0) if base is not None else None
            if as_int(rep.get("fault_start")) != got:
                fails.append("fault_start %s is not object %s + offset %s"
                             % (rep.get("fault_start"), rep.get("object"), rep.get("offset")))
            # Poison found whole-object: the first damaged byte is ours.
        else:
            got = as_int(rep.get("address"))
            base, side, d = as_int(rep.get("object")), rep.get("side"), rep.get("distance")
            calc = {"right": lambda: base + rep.get("object_size", 0) + d,
                    "left": lambda: base - d,
                    "inside": lambda: base + rep.get("offset", 0)}.get(side)
            if base is None or calc is None or (side != "inside" and d is None) or got != calc():
                fails.append("address %s does not follow from object %s, side %s, distance %s,"
                             " offset %s" % (rep.get("address"), rep.get("object"), side, d,
                                             rep.get("offset")))
            if side in ("right", "left") and rep.get("object_size") != size:
                fails.append("object_size %s, asked %d" % (rep.get("object_size"), size))
        if got != want_addr:
            fails.append("%s at %s, the program's access was at %#x (object %#x %s %d)"
                         % (kind, hex(got) if isinstance(got, int) else got, want_addr, obj,
                            "+" if want_addr >= obj else "-", abs(want_addr - obj)))
    elif cls in ("double-free", "realloc-freed", "interior-free") and obj is not None:
        want_ptr = obj + (dist if cls == "interior-free" else 0)
        if as_int(rep.get("pointer")) != want_ptr:
            fails.append("%s: pointer %s, freed %#x" % (kind, rep.get("pointer"), want_ptr))
    for track in ("alloc", "free"):
        t = rep.get(track)
        need = cfg.tracked() and (track == "alloc" or cls in TRACKED)
        if cls in ("stack-free", "static-free", "interior-free"):
            need = False  # SLUB names no object for these: no tracks
        if t is None:
            if need:
                fails.append("%s: no %s track" % (kind, track))
            continue
        fn = str(t.get("function", "")).split("+")[0]
        where = (t.get("stack") or [{}])[0].get("where", "heapbug.c")
        if fn != cfg.func or "heapbug.c" not in where:
            fails.append("%s track in %s (%s), not %s of heapbug.c" % (track, fn, where, cfg.func))


def classify(cfg, cls, size, dist, rc, out, reports, jerr):
    fails = [jerr] if jerr else []
    lines = out.splitlines()
    objs = re.findall(r"^object=(0x[0-9a-f]+)$", out, re.M)
    obj = int(objs[0], 16) if objs else None
    pos_before = next((i for i, l in enumerate(lines) if l == "before"), None)
    pos_after = next((i for i, l in enumerate(lines) if l == "after"), None)
    bugs = [i for i, l in enumerate(lines) if l.startswith("BUG ")]
    if len(bugs) != len(reports):
        fails.append("%d BUG lines, %d JSON reports" % (len(bugs), len(reports)))
    done = "done" in lines
    died = rc != 0
    if cls == "clean":
        if reports:
            fails.extend("clean program reported: %s" % kind_of(r) for r in reports)
            return "false", fails
        return ("ok" if done and not died else "crash"), fails
    hit = None
    for i, rep in enumerate(reports):
        if kind_of(rep) in KINDS[cls]:
            if hit is None:
                hit = i
                check_report(cfg, cls, size, dist, rep, obj, fails)
        else:
            fails.append("a report of another kind: %s (%s)" % (kind_of(rep), rep.get("reason")))
    if hit is None:
        if died or not done:
            return "crash", fails
        return "missed", fails
    at = bugs[hit] if hit < len(bugs) else None
    if pos_before is None:
        fails.append("no 'before' line")
        return "later", fails
    during = at is not None and at > pos_before and (pos_after is None or at < pos_after)
    if during:  # the bad line itself is the top of the stack
        fb = reports[hit].get("found_by") or []
        fn = str(fb[0].get("function", "")).split("+")[0] if fb else None
        if fn != cfg.func:
            fails.append("found by %s, not %s" % (fn, cfg.func))
    return ("instr" if during else "later"), fails


def run_matrix(args, cfg, tag, classes=CLASSES, sizes=SIZES):
    os.makedirs(args.workdir, exist_ok=True)
    cells = {}
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        futs = {pool.submit(run_cell, args, cfg, c, s, tag): (c, s) for c in classes for s in sizes}
        for f in futs:
            cells[futs[f]] = f.result()
    return cells


def cell_text(cell):
    state, fails = cell
    return state + ("!" if fails else "")


def print_table(cells, classes, sizes):
    w = 16
    print("%-16s" % "" + "".join("%8d" % s for s in sizes))
    for c in classes:
        print("%-*s" % (w, c) + "".join("%8s" % cell_text(cells[(c, s)]) for s in sizes))
    counts = {k: sum(1 for v in cells.values() if v[0] == k)
              for k in ("instr", "later", "missed", "false", "crash")}
    print("%d instr, %d later, %d missed, %d false, %d crash" % tuple(counts.values()))
    for (c, s), (state, fails) in sorted(cells.items()):
        for f in fails:
            print("  ! %s %d: %s" % (c, s, f))


def read_expect(path):
    want = {}
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            cls, size, cell = line.split("\t")
            want[(cls, int(size))] = cell
    return want


def compare(cells, want):
    diffs = []
    for key, cell in sorted(cells.items()):
        exp = want.get(key)
        if exp is None:
            diffs.append("%s %d: %s, not in the expected file" % (key[0], key[1], cell_text(cell)))
        elif exp != "*" and exp != cell_text(cell):
            diffs.append("%s %d: %s, expected %s" % (key[0], key[1], cell_text(cell), exp))
    return diffs


def write_expect(path, cells, header):
    with open(path, "w") as f:
        f.write("# %s\n# class\tsize\tcell (run_classes.py)\n" % header)
        for c in CLASSES:
            for s in SIZES:
                if (c, s) in cells:
                    f.write("%s\t%d\t%s\n" % (c, s, cell_text(cells[(c, s)])))


def parse_options(s):
    out = {}
    for kv in filter(None, (s or "").split(":")):
        k, _, v = kv.partition("=")
        out[k] = v
    return out


def shifted_table(n):
    """A wrong cache table: every size one class up."""
    return class_size(class_size(n) + 1)


def selftest(args):
    ed = args.expect_dir
    # (what, configuration, expected file, classes, sizes, expectation changes)
    runs = [
        ("FZPU expectations, no debug flags", Config(), "fzpu.tsv",
         ["overflow-write", "uaf-write"], [50, 1000], {}),
        ("G expectations, no G", Config(slabdbg="-"), "g.tsv",
         ["overflow-read", "uaf-read"], [64, 4096], {}),
        ("G expectations, sampling instead of G", Config(options={"sample_rate": "1"}),
         "g.tsv", ["underflow-write"], [4096], {}),
        ("production, a caught double free expected missed", Config(), "prod.tsv",
         ["double-free"], [50], {("double-free", 50): "missed"}),
        ("FZPU, a wrong cache table", Config(slabdbg="FZPU", table=shifted_table), "fzpu.tsv",
         ["double-free"], [100], {}),
        ("FZPU, stacks expected in another function", Config(slabdbg="FZPU", func="run"),
         "fzpu.tsv", ["interior-free"], [64], {}),
        ("FZPU, a clean program that overflows", Config(slabdbg="FZPU", clean_prog="overflow-write"),
         "fzpu.tsv", ["clean"], [50], {}),
        ("production, a clean program that frees twice", Config(clean_prog="double-free"),
         "prod.tsv", ["clean"], [64], {}),
    ]
    bad = 0
    for i, (what, cfg, fname, classes, sizes, change) in enumerate(runs):
        want = read_expect(os.path.join(ed, fname))
        want.update(change)
        cells = run_matrix(args, cfg, "selftest%d" % i, classes, sizes)
        diffs = compare(cells, want)
        if diffs:
            print("ok: %s: rejected (%s)" % (what, diffs[0]))
        else:
            print("NOT REJECTED: %s" % what)
            print_table(cells, classes, sizes)
            bad += 1
    print("%d sabotaged runs, %d not rejected" % (len(runs), bad))
    return 1 if bad else 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bindir", required=True)
    ap.add_argument("--lib", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--slabdbg", help="SLABDBG (unset when not given)")
    ap.add_argument("--options", help="SLABDBG_OPTIONS beside json= (k=v:k=v)")
    ap.add_argument("--expect")
    ap.add_argument("--expect-dir")
    ap.add_argument("--write-expect")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--classes", help="comma-separated subset")
    ap.add_argument("--sizes", help="comma-separated subset")
    ap.add_argument("--selftest", action="store_true")
    args = ap.parse_args()
    if args.selftest:
        return selftest(args)
    classes = args.classes.split(",") if args.classes else CLASSES
    sizes = [int(s) for s in args.sizes.split(",")] if args.sizes else SIZES
    cfg = Config(slabdbg=args.slabdbg, options=parse_options(args.options))
    tag = re.sub(r"[^A-Za-z0-9]+", "_", "%s-%s" % (args.slabdbg, args.options or "")) or "prod"
    cells = run_matrix(args, cfg, tag, classes, sizes)
    print("SLABDBG=%s SLABDBG_OPTIONS=%s" % (
        args.slabdbg if args.slabdbg is not None else "(unset)",
        ":".join("%s=%s" % kv for kv in cfg.options.items())))
    print_table(cells, classes, sizes)
    if args.write_expect:
        write_expect(args.write_expect, cells,
                     "SLABDBG=%s %s" % (args.slabdbg if args.slabdbg is not None else "(unset)",
                                        args.options or ""))
    if args.expect:
        diffs = compare(cells, read_expect(args.expect))
        for d in diffs:
            print("DIFFERENT: " + d)
        print("%d cell(s) differ from %s" % (len(diffs), os.path.basename(args.expect)))
        return 1 if diffs else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
