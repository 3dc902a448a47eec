#!/usr/bin/env python3
"""C++ under slabdbg: runs each mode of mismatch.cpp with LD_PRELOAD and
SLABDBG=FZPU and checks its report, in JSON and in text, against CASES.

    run_cxx.py --prog PATH --lib LIBSLABDBG --workdir DIR (--case NAME | --list)

Each case checks: the kind and SLUB-style reason, the cache, the API of the
allocation and of the free, the allocation site (the caller of operator new,
demangled: operator new's own frame is never the site), the code that freed
it (the first frame of the Call Trace), no mangled name in any stack, the
FIX line, the plain-words summary; and that the program went on (the object
is freed all the same).  Each case runs twice: with SLUB's flags (FZPU) and
in guard mode (G), whose objects record their family too.  The clean_*
modes must report nothing, also in guard mode.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys

MISMATCH = "alloc_dealloc_mismatch"
SIZED = "sized_delete_mismatch"

# mode: (kind, reason, cache, allocated_with, freed_with, alloc site, freed by)
CASES = {
    "new_free": (MISMATCH, "Mismatched free. free but object is from operator new",
                 "kmalloc-8", "operator new", "free", "shop::make_int()",
                 "shop::release_with_free(void*)"),
    "malloc_delete": (MISMATCH, "Mismatched free. operator delete but object is from malloc",
                      "kmalloc-48", "malloc", "operator delete", "shop::make_raw()",
                      "shop::release_with_delete(int*)"),
    "new_array_delete": (MISMATCH,
                         "Mismatched free. operator delete but object is from operator new[]",
                         "kmalloc-112", "operator new[]", "operator delete",
                         "shop::make_ints()", "shop::release_with_delete(int*)"),
    "class_array_delete": (MISMATCH,
                           "Mismatched free. operator delete but object is from operator new[]",
                           "kmalloc-512", "operator new[]", "operator delete",
                           "shop::Factory<shop::Widget>::make_array(unsigned long)",
                           "shop::release_widget(shop::Widget*)"),
    "new_delete_array": (MISMATCH,
                         "Mismatched free. operator delete[] but object is from operator new",
                         "kmalloc-8", "operator new", "operator delete[]", "shop::make_int()",
                         "shop::release_with_delete_array(int*)"),
    "malloc_delete_array": (MISMATCH,
                            "Mismatched free. operator delete[] but object is from malloc",
                            "kmalloc-48", "malloc", "operator delete[]", "shop::make_raw()",
                            "shop::release_with_delete_array(int*)"),
    "sized_delete": (SIZED, "Wrong size in sized delete. 32 but object is 8 bytes", "kmalloc-8",
                     None, None, "shop::Factory<shop::Small>::make()",
                     "shop::release_as_large(shop::Small*)"),
    "aligned_sized": (SIZED, "Wrong size in sized delete. 100 but object is 64 bytes",
                      "kmalloc-64", None, None, "main", "shop::release_aligned_wrong(void*)"),
    "throw_through": (MISMATCH, "Mismatched free. free but object is from operator new",
                      "kmalloc-8", "operator new", "free", "shop::make_int()",
                      "shop::release_with_free(void*)"),
}
# (".sampled": every allocation the sampling pool can hold goes there, whose
# objects are checked in the debug modes and never without them)
# Tracks past the C++ runtime's wrappers: (kind, what, alloc site, free site)
SITES = {"string_waf": ("overwritten", "Poison", "shop::build_text", "shop::drop_text")}
CLEAN = {"clean_pairs": ["FZPU", "G", None, "FZPU.sampled", "None.sampled"],
         "clean_failure": ["FZPU", "G", None]}
RULE = "=" * 77


def fn(frame):
    """'shop::make_int()+0xe/0x16' -> 'shop::make_int()'."""
    return re.sub(r"\+0x[0-9a-f]+(/0x[0-9a-f]+)?$", "", frame.split(" /")[0].strip())


def run(args, mode, slabdbg):
    d = os.path.join(args.workdir, mode + "." + (slabdbg or "plain").replace(",", "_"))
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    jpath = os.path.join(d, "report.json")
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLABDBG")}
    env["LD_PRELOAD"] = args.lib
    sampled = slabdbg is not None and slabdbg.endswith(".sampled")
    if sampled:
        slabdbg = None if slabdbg == "None.sampled" else slabdbg[:-len(".sampled")]
    env["SLABDBG_OPTIONS"] = ("sample_rate=1" if sampled else "sample_rate=0") + ":json=" + jpath
    if slabdbg is not None:
        env["SLABDBG"] = slabdbg
    p = subprocess.run([args.prog, mode], env=env, capture_output=True, text=True, timeout=30)
    for name, text in (("stdout", p.stdout), ("stderr", p.stderr)):
        with open(os.path.join(d, name), "w") as f:
            f.write(text)
    reports = []
    if os.path.exists(jpath):
        reports = [json.loads(l) for l in open(jpath) if l.strip()]
    return p, reports


def check_case(args, mode):
    fails = []

    def check(cond, what):
        if not cond:
            fails.append(what)

    if mode in SITES:
        kind, what, alloc_site, free_site = SITES[mode]
        p, reports = run(args, mode, "FZPU")
        check(p.returncode == 0 and "done" in p.stdout.splitlines(), "exit %d" % p.returncode)
        check(len(reports) == 1, "%d JSON reports, expected 1" % len(reports))
        if reports:
            j = reports[0]
            check(j.get("kind") == kind and j.get("what") == what,
                  "kind %r what %r" % (j.get("kind"), j.get("what")))
            for track, site in (("alloc", alloc_site), ("free", free_site)):
                got = fn(j.get(track, {}).get("function", ""))
                check(got.startswith(site + "(") or got.startswith(site + "[abi:"),
                      "%s site %r, expected %s(...)" % (track, got, site))
        return fails

    if mode in CLEAN:
        for slabdbg in CLEAN[mode]:
            p, reports = run(args, mode, slabdbg)
            check(p.returncode == 0, "%s: exit %d: %s" % (slabdbg, p.returncode, p.stderr[-300:]))
            check("done" in p.stdout.splitlines(), "%s: no 'done'" % slabdbg)
            check("reports=0" in p.stdout.splitlines() or slabdbg is None,
                  "%s: reports: %r" % (slabdbg, p.stdout))
            check(not reports and "BUG " not in p.stderr, "%s: a report: %s"
                  % (slabdbg, p.stderr[:400]))
            if mode == "clean_failure":
                check("failure_checks=0" in p.stdout.splitlines(),
                      "%s: bad_alloc / new_handler / nothrow: %r" % (slabdbg, p.stdout))
        return fails

    for slabdbg in ("FZPU", "G"):
        fails += ["%s: %s" % (slabdbg, f) for f in check_report(args, mode, slabdbg)]
    return fails


def check_report(args, mode, slabdbg):
    fails = []

    def check(cond, what):
        if not cond:
            fails.append(what)

    kind, reason, cache, alloc_with, free_with, site, freer = CASES[mode]
    p, reports = run(args, mode, slabdbg)
    check(p.returncode == 0 and "done" in p.stdout.splitlines(),
          "the program did not go on: exit %d" % p.returncode)
    check("reports=1" in p.stdout.splitlines(), "reports: %r" % p.stdout)
    check(len(reports) == 1, "%d JSON reports, expected 1" % len(reports))
    if mode == "throw_through":
        check("caught=through the report" in p.stdout.splitlines(),
              "the exception did not arrive: %r" % p.stdout)
    if not reports:
        return fails
    j = reports[0]
    check(j.get("kind") == kind, "kind %r, expected %r" % (j.get("kind"), kind))
    check(j.get("reason") == reason, "reason %r, expected %r" % (j.get("reason"), reason))
    check(j.get("cache") == cache, "cache %r, expected %r" % (j.get("cache"), cache))
    if alloc_with:
        check(j.get("allocated_with") == alloc_with and j.get("freed_with") == free_with,
              "families %r/%r, expected %r/%r" % (j.get("allocated_with"), j.get("freed_with"),
                                                  alloc_with, free_with))
    else:
        check("delete_size" in j, "no delete_size")
    alloc = [fn(f["function"]) for f in j.get("alloc", {}).get("stack", [])]
    found = [fn(f["function"]) for f in j.get("found_by", [])]
    check(alloc[:1] == [site], "allocation site %r, expected %r" % (alloc[:1], site))
    check(found[:1] == [freer], "freed by %r, expected %r" % (found[:1], freer))
    for stack_name, stack in (("alloc", alloc), ("found_by", found)):
        check(not any(f.startswith("_Z") for f in stack),
              "%s stack not demangled: %r" % (stack_name, stack))
        check(not any(f.startswith("operator new") or f.startswith("operator delete")
                      for f in stack), "%s stack shows the operator: %r" % (stack_name, stack))
    check(re.fullmatch(r"[0-9a-f]{16}", j.get("signature", "")) is not None, "signature")

    # The text: SLUB's header and FIX line, the tracks, the summary block.
    lines = p.stderr.splitlines()
    check(lines.count(RULE) == 1, "text: %d reports" % lines.count(RULE))
    check("BUG %s (Not tainted): %s" % (cache, reason) in lines, "text: no BUG line")
    check(any(l.startswith("Allocated in %s+0x" % site) for l in lines),
          "text: no 'Allocated in %s'" % site)
    check(not any(l.startswith("Freed in ") for l in lines),
          "text: a free track of the slot's previous object")
    fix = [l for l in lines if l.startswith("FIX ")]
    check(len(fix) == 1 and re.fullmatch(r"FIX %s: Object at 0x[0-9a-f]+ freed all the same"
                                         % re.escape(cache), fix[0]) is not None,
          "text: FIX line %r" % fix)
    summary = [l for l in lines if l.startswith("Summary: ")]
    check(len(summary) == 1 and summary[0].startswith("Summary: %s gave " % freer)
          and site in summary[0], "text: summary %r" % summary)
    check("explain: slabdbg explain <this log>" in lines, "text: no explain hint")
    return fails


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--prog", required=True)
    ap.add_argument("--lib", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--case")
    ap.add_argument("--list", action="store_true")
    args = ap.parse_args()
    if args.list:
        print("\n".join(list(CASES) + list(SITES) + list(CLEAN)))
        return 0
    fails = check_case(args, args.case)
    for f in fails:
        print("FAIL %s: %s" % (args.case, f))
    if not fails:
        print("ok %s" % args.case)
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
