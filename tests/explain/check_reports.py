#!/usr/bin/env python3
"""The regression corpus of real reports: slabdbg explain's diagnosis of each
file, field by field, against the expectation written for it.

  check_reports.py --cli SLABDBG --dir REPORTS NAME   check one file
  check_reports.py --cli SLABDBG --dir REPORTS --all  check every file
  check_reports.py --cli SLABDBG --dir REPORTS --selftest
        every file has an expectation and a line in SOURCES, and every
        expected field, changed, makes the check fail
  check_reports.py --cli SLABDBG --dir REPORTS --draft NAME
        print the diagnosis in the expectation's form (to start a new
        expectation from, once each field has been checked by hand against
        the report)

REPORTS holds the reports (NAME.log), SOURCES (NAME, a tab, where it comes
from) and expected/NAME.json:

  {"status": 0,
   "reports": [{"parser": "kasan", "kind": ..., "class": ..., "cache": ...,
                "object_size": ..., "offset": ..., "access": "read",
                "access_size": 8, "alloc_site": ..., "free_site": ...,
                "by": ..., "alloc_top": ..., "free_top": ..., "trace_top": ...,
                "stray_offset": ..., "stray_length": ..., "stray_value": ...}],
   "oopses": [{"arch": ..., "kind": ..., "fault_address": ...,
               "fault_address_from": ..., "pc": ..., "bug_location": ...,
               "faulting_instruction": ..., "trace_top": ..., "panic": ...}],
   "dumps": [{"base": ..., "words": ...}],
   "links": [["value", "SLUB report 1", "oops 1"], ...],
   "others": ["kernel warning", ...]}

The numbers of reports, oopses, dumps, links and others must match; within
each record only the fields the expectation names are compared (null: the
field must be absent).
"""
import argparse
import copy
import json
import os
import subprocess
import sys


def run(cli, path):
    p = subprocess.run([cli, "explain", "--json", path], capture_output=True, text=True,
                       timeout=120, errors="replace")
    out = None
    if p.stdout.strip():
        try:
            out = json.loads(p.stdout)
        except ValueError as e:
            raise SystemExit("%s: the JSON output does not parse: %s" % (path, e))
    return p.returncode, out, p.stderr


def func(frame):
    return frame.get("function") if isinstance(frame, dict) else None


def top(stack):
    """The first reliable frame of a stack that names a function."""
    for f in stack or []:
        if isinstance(f, dict) and f.get("function") and not f.get("unreliable"):
            return f["function"]
    return None


def report_view(r):
    acc = r.get("access") or {}
    stray = r.get("stray") or {}
    by = r.get("access_by") or r.get("found_by")
    return {
        "parser": r.get("parser"),
        "kind": r.get("kind"),
        "class": r.get("class"),
        "cache": r.get("cache"),
        "object_size": r.get("object_size"),
        "offset": r.get("offset"),
        "access": acc.get("kind"),
        "access_size": acc.get("size"),
        "alloc_site": func(r.get("alloc")),
        "free_site": func(r.get("free")),
        "by": func(by),
        "alloc_top": top((r.get("alloc") or {}).get("stack")),
        "free_top": top((r.get("free") or {}).get("stack")),
        "trace_top": top(r.get("call_trace")),
        "stray_offset": stray.get("offset"),
        "stray_length": stray.get("length"),
        "stray_value": stray.get("value"),
        "stray_value_kind": stray.get("value_kind"),
    }


def oops_view(o):
    bug = o.get("bug_location")
    return {
        "arch": o.get("arch"),
        "kind": o.get("kind"),
        "fault_address": o.get("fault_address"),
        "fault_address_from": o.get("fault_address_from"),
        "fault_address_kind": o.get("fault_address_kind"),
        "pc": func(o.get("pc")) or (o.get("pc") or {}).get("text"),
        "bug_location": "%s:%s" % (bug.get("file"), bug.get("line")) if bug else None,
        "faulting_instruction": o.get("faulting_instruction"),
        "trace_top": top(o.get("call_trace")),
        "panic": o.get("panic"),
    }


def dump_view(d):
    return {"base": d.get("base"), "words": d.get("words")}


def diagnosis(status, out):
    """The output, in the expectation's form (every field)."""
    out = out or {}
    return {
        "status": status,
        "reports": [report_view(r) for r in out.get("reports", [])],
        "oopses": [oops_view(o) for o in out.get("oopses", [])],
        "dumps": [dump_view(d) for d in out.get("dumps", [])],
        "links": sorted([l.get("kind"), l.get("from"), l.get("to")]
                        for l in out.get("link_details", [])),
        "others": [o.get("what") for o in out.get("others", [])],
    }


def compare(expected, got):
    """The differences, one line each."""
    diffs = []
    if expected.get("status") != got["status"]:
        diffs.append("exit status %r, expected %r" % (got["status"], expected.get("status")))
    for sec in ("reports", "oopses", "dumps"):
        want = expected.get(sec, [])
        have = got[sec]
        if len(want) != len(have):
            diffs.append("%d %s, expected %d" % (len(have), sec, len(want)))
        for i, (w, h) in enumerate(zip(want, have)):
            for key, value in w.items():
                if key not in h:
                    diffs.append("%s[%d]: no field %r in the view" % (sec, i, key))
                elif h[key] != value:
                    diffs.append("%s[%d].%s = %r, expected %r" % (sec, i, key, h[key], value))
    want_links = sorted(list(l) for l in expected.get("links", []))
    if want_links != got["links"]:
        diffs.append("links %r, expected %r" % (got["links"], want_links))
    if expected.get("others", []) != got["others"]:
        diffs.append("others %r, expected %r" % (got["others"], expected.get("others", [])))
    return diffs


def load_expected(d, name):
    path = os.path.join(d, "expected", name + ".json")
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        raise SystemExit("%s: %s" % (path, e))


def check(cli, d, name):
    exp = load_expected(d, name)
    status, out, err = run(cli, os.path.join(d, name + ".log"))
    got = diagnosis(status, out)
    diffs = compare(exp, got)
    for line in diffs:
        print("%s: %s" % (name, line))
    if diffs and err.strip():
        print("%s: stderr: %s" % (name, err.strip()[:500]))
    return not diffs


def names(d):
    return sorted(f[:-4] for f in os.listdir(d) if f.endswith(".log"))  # JSON lines too


def mutations(exp):
    """Copies of the expectation with one field changed each."""
    def changed(v):
        if isinstance(v, bool):
            return not v
        if isinstance(v, int):
            return v + 1
        if isinstance(v, str):
            return v + "x"
        if v is None:
            return "something"
        return None

    yield "status", dict(exp, status=exp.get("status", 0) + 1)
    for sec in ("reports", "oopses", "dumps"):
        items = exp.get(sec, [])
        m = copy.deepcopy(exp)
        m[sec] = items + [{}]
        yield "%s count" % sec, m
        for i, item in enumerate(items):
            for key, value in item.items():
                nv = changed(value)
                if nv is None:
                    continue
                m = copy.deepcopy(exp)
                m[sec][i][key] = nv
                yield "%s[%d].%s" % (sec, i, key), m
    m = copy.deepcopy(exp)
    m["links"] = list(exp.get("links", [])) + [["value", "x", "y"]]
    yield "links", m
    m = copy.deepcopy(exp)
    m["others"] = list(exp.get("others", [])) + ["x"]
    yield "others", m


def selftest(cli, d):
    ok = True
    files = names(d)
    exps = sorted(f[:-5] for f in os.listdir(os.path.join(d, "expected")) if f.endswith(".json"))
    for n in sorted(set(files) - set(exps)):
        print("%s: no expectation" % n)
        ok = False
    for n in sorted(set(exps) - set(files)):
        print("expected/%s.json: no report file" % n)
        ok = False
    listed = set()
    with open(os.path.join(d, "SOURCES")) as f:
        for line in f:
            if line.strip() and not line.startswith("#"):
                listed.add(line.split("\t", 1)[0].strip())
    for n in files:
        if n + ".log" not in listed:
            print("%s: not in SOURCES" % n)
            ok = False
    count = 0
    for n in sorted(set(files) & set(exps)):
        exp = load_expected(d, n)
        status, out, _ = run(cli, os.path.join(d, n + ".log"))
        got = diagnosis(status, out)
        if compare(exp, got):
            print("%s: the expectation does not hold as written" % n)
            ok = False
            continue
        for what, m in mutations(exp):
            count += 1
            if not compare(m, got):
                print("%s: changing %s does not make the check fail" % (n, what))
                ok = False
    print("selftest: %d files, %d changed expectations, all %s" %
          (len(files), count, "rejected" if ok else "NOT rejected"))
    return ok


def draft(cli, d, name):
    status, out, _ = run(cli, os.path.join(d, name + ".log"))
    got = diagnosis(status, out)
    for sec in ("reports", "oopses", "dumps"):
        got[sec] = [{k: v for k, v in item.items() if v is not None} for item in got[sec]]
    print(json.dumps(got, indent=2))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cli", required=True)
    ap.add_argument("--dir", required=True)
    ap.add_argument("--all", action="store_true")
    ap.add_argument("--selftest", action="store_true")
    ap.add_argument("--draft", action="store_true")
    ap.add_argument("name", nargs="?")
    a = ap.parse_args()
    if a.selftest:
        return 0 if selftest(a.cli, a.dir) else 1
    if a.draft:
        draft(a.cli, a.dir, a.name)
        return 0
    todo = names(a.dir) if a.all else [a.name]
    if not todo or todo == [None]:
        ap.error("a NAME, --all or --selftest")
    bad = [n for n in todo if not check(a.cli, a.dir, n)]
    print("%d of %d files as expected" % (len(todo) - len(bad), len(todo)))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
