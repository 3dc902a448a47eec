#!/usr/bin/env python3
"""Runs the bug programs of tests/debug under slabdbg and checks their reports.

    run_bug.py --table expected.tsv --bindir DIR --lib libslabdbg.so \
               --workdir DIR (--case NAME | --selftest | --list)

expected.tsv has one row per expected report (a case that must report
nothing has one row with report 0).  Each case runs its program once with
LD_PRELOAD, SLABDBG and SLABDBG_OPTIONS=json=FILE[:extra]; every report is
checked in its JSON line and in its text on stderr, field by field.

Cell values:
  -            the field must be absent (JSON key missing; for alloc/free
               also no "Allocated in"/"Freed in" line in the text)
  *            not checked (only where the value cannot be known)
  +            present, with any value
  text:NAME    alloc/free: only the text report names it (JSON has no track)
  {key}        replaced by the value the program printed as key=value
  numbers      decimal or 0x hex
Column `fix` may use {fault} for "<fault_start>-<fault_end>" of the report;
column `text_has` lists, comma-separated, substrings the text report must
contain (\\n stands for a line break).

--selftest runs every case once and proves that each check can fail: for
the cases that pass, every expectation is mutated in turn and the report
output is mutilated in several ways, and each variant must be rejected.
"""
import argparse
import copy
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys

COLUMNS = ["case", "program", "args", "slabdbg", "options", "exit", "stdout", "report",
           "kind", "reason", "cache", "what", "offset", "first_byte", "expected", "length",
           "requested", "alloc", "free", "found_by", "pointer", "object", "fix", "text_has"]
CASE_COLUMNS = ["program", "args", "slabdbg", "options", "exit", "stdout"]
NUMERIC = {"offset", "first_byte", "expected", "length", "requested"}
JSON_KEY = {"offset": "offset", "first_byte": "first_byte", "expected": "expected",
            "length": "length", "requested": "requested_size", "what": "what",
            "kind": "kind", "reason": "reason", "cache": "cache", "pointer": "pointer",
            "object": "object"}
# The JSON keys run_bug.py checks; a key a newer slabdbg adds is listed by
# --selftest as not checked.
KNOWN_JSON_KEYS = {"kind", "reason", "cache", "pid", "what", "fault_start", "fault_end",
                   "length", "first_byte", "expected", "bytes", "offset", "pointer", "object",
                   "object_size", "requested_size", "alloc", "free", "found_by", "signature",
                   "host", "program", "time"}
# The plain-words block after the kernel's lines (unless summary=0).
SUMMARY_PREFIXES = ("Summary: ", "explain: ")
RULE = "=" * 77
TIMEOUT = 10


def read_table(path):
    rows = []
    with open(path) as f:
        for lineno, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            cells = line.split("\t")
            if cells[0] == "case":
                if cells != COLUMNS:
                    sys.exit("%s:%d: header differs from %s" % (path, lineno, COLUMNS))
                continue
            if len(cells) != len(COLUMNS):
                sys.exit("%s:%d: %d cells, expected %d" % (path, lineno, len(cells),
                                                           len(COLUMNS)))
            row = dict(zip(COLUMNS, cells))
            row["_line"] = lineno
            rows.append(row)
    return rows


def cases_of(rows):
    cases = {}
    for r in rows:
        cases.setdefault(r["case"], []).append(r)
    for name, rs in cases.items():
        for col in CASE_COLUMNS:
            if len({r[col] for r in rs}) != 1:
                sys.exit("case %s: column %s differs between its rows" % (name, col))
    return cases


# ---- running ------------------------------------------------------------------

class Result:
    """What one run produced."""

    def __init__(self):
        self.returncode = None
        self.pid = None
        self.stdout = ""
        self.stderr = ""
        self.json_lines = []


def no_core():
    # A core dump of the abort cases is of no use here.
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def run_case(rows, args):
    first = rows[0]
    name = first["case"]
    work = os.path.join(args.workdir, name)
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    json_path = os.path.join(work, "reports.json")
    env = dict(os.environ)
    for k in list(env):
        if k.startswith("SLABDBG"):
            del env[k]
    env["LD_PRELOAD"] = args.lib
    if first["slabdbg"] != "<unset>":  # <unset>: production mode, no SLABDBG at all
        env["SLABDBG"] = "" if first["slabdbg"] == "<empty>" else first["slabdbg"]
    opts = "json=" + json_path
    # The guarded sampling pool takes random allocations (one in
    # sample_rate); off unless the case sets it, so that where an object
    # lands does not depend on chance.
    if "sample_rate=" not in first["options"]:
        opts += ":sample_rate=0"
    if first["options"] != "-":
        opts += ":" + first["options"]
    env["SLABDBG_OPTIONS"] = opts
    argv = [os.path.join(args.bindir, first["program"])]
    if first["args"] != "-":
        argv += first["args"].split(" ")
    res = Result()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            cwd=work, text=True, errors="replace", preexec_fn=no_core)
    res.pid = proc.pid
    try:
        res.stdout, res.stderr = proc.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        res.stdout, res.stderr = proc.communicate()
        res.stderr += "\n(killed after %d s)\n" % TIMEOUT
    res.returncode = proc.returncode
    if os.path.exists(json_path):
        with open(json_path) as f:
            res.json_lines = [l for l in f.read().split("\n") if l.strip()]
    with open(os.path.join(work, "command"), "w") as f:
        f.write("LD_PRELOAD=%s SLABDBG='%s' SLABDBG_OPTIONS='%s' %s\n"
                % (args.lib, env.get("SLABDBG", "<unset>"), opts, " ".join(argv)))
    with open(os.path.join(work, "stdout"), "w") as f:
        f.write(res.stdout)
    with open(os.path.join(work, "stderr"), "w") as f:
        f.write(res.stderr)
    return res


# ---- parsing the output ---------------------------------------------------------

def facts_of(stdout):
    facts = {}
    for line in stdout.splitlines():
        m = re.match(r"^([A-Za-z0-9_]+)=(.*)$", line)
        if m:
            facts[m.group(1)] = m.group(2)
    return facts


def text_reports(stderr):
    """Splits stderr into report blocks (rule line to FIX line, and the
    summary lines right after it) and the lines outside any report."""
    blocks, stray = [], []
    cur = None
    after_fix = False
    for line in stderr.splitlines():
        if after_fix and line.startswith(SUMMARY_PREFIXES):
            blocks[-1].append(line)
            continue
        after_fix = False
        if line == RULE and cur is None:
            cur = [line]
            continue
        if cur is not None:
            cur.append(line)
            if line.startswith("FIX "):
                blocks.append(cur)
                cur = None
                after_fix = True
            continue
        if line.strip():
            stray.append(line)
    if cur is not None:
        blocks.append(cur)  # unterminated: the FIX check will say so
    return blocks, stray


def fn_name(frame_text):
    """'alloc_request+0xe/0x10' -> 'alloc_request'."""
    return frame_text.split("+", 1)[0]


def num(v):
    return int(v, 0)


# ---- checking -------------------------------------------------------------------

class Checker:
    def __init__(self):
        self.failures = []
        self.passed = 0

    def check(self, cond, what):
        if cond:
            self.passed += 1
        else:
            self.failures.append(what)
        return cond


def subst(value, facts, extra=None):
    def rep(m):
        key = m.group(1)
        if extra and key in extra:
            return extra[key]
        return facts.get(key, "{missing fact %s}" % key)
    return re.sub(r"\{([a-z0-9_]+)\}", rep, value)


def check_case(rows, res):
    """Returns the list of failed checks (empty: all passed) and the number
    of passed ones."""
    ck = Checker()
    first = rows[0]
    facts = facts_of(res.stdout)
    expected_reports = [r for r in rows if r["report"] != "0"]
    n = len(expected_reports)

    # How the program ended.
    if first["exit"] == "abort":
        ck.check(res.returncode == -signal.SIGABRT,
                 "exit: expected SIGABRT, got status %s" % res.returncode)
        ck.check("done" not in res.stdout.splitlines(),
                 "exit: the program went on after the first report")
    else:
        ck.check(res.returncode == int(first["exit"]),
                 "exit: expected status %s, got %s" % (first["exit"], res.returncode))
        ck.check("done" in res.stdout.splitlines(), "stdout: no 'done' line")
    want_stdout = [] if first["stdout"] == "-" else first["stdout"].split(",")
    if first["exit"] != "abort" and not any(w.startswith("reports=") for w in want_stdout):
        want_stdout.append("reports=%d" % n)
    for w in want_stdout:
        k, _, v = w.partition("=")
        ck.check(facts.get(k) == v, "stdout: expected %s=%s, got %s" % (k, v, facts.get(k)))

    # As many reports as expected, in JSON and in text.
    blocks, stray = text_reports(res.stderr)
    ck.check(len(res.json_lines) == n,
             "json: %d report(s), expected %d" % (len(res.json_lines), n))
    ck.check(len(blocks) == n, "text: %d report(s), expected %d" % (len(blocks), n))
    ck.check(not stray, "stderr: lines outside any report: %r" % stray[:3])

    for i, row in enumerate(expected_reports):
        tag = "report %s" % row["report"]
        if i >= len(res.json_lines) or i >= len(blocks):
            ck.check(False, "%s: missing" % tag)
            continue
        try:
            j = json.loads(res.json_lines[i])
        except ValueError as e:
            ck.check(False, "%s: JSON does not parse: %s" % (tag, e))
            continue
        check_report(ck, tag, row, j, blocks[i], facts, res.pid)
    return ck.failures, ck.passed


def check_report(ck, tag, row, j, block, facts, pid):
    """pid: the process run; a program whose report comes from another
    process or whose tracks name other threads says so in its facts
    (report_pid, alloc_tid, free_tid)."""
    text = "\n".join(block)
    tids = {"alloc": int(facts.get("alloc_tid", facts.get("report_pid", pid))),
            "free": int(facts.get("free_tid", facts.get("report_pid", pid)))}
    pid = int(facts.get("report_pid", pid))
    fault = None
    if "fault_start" in j and "fault_end" in j:
        fault = "%s-%s" % (j["fault_start"], j["fault_end"])

    # JSON, field by field.
    for col in ["kind", "reason", "cache", "what", "offset", "first_byte", "expected", "length",
                "requested", "pointer", "object"]:
        want = row[col]
        key = JSON_KEY[col]
        if want == "*":
            continue
        if want == "-":
            ck.check(key not in j, "%s: json %s present (%r), expected absent"
                     % (tag, key, j.get(key)))
            continue
        if want == "+":
            ck.check(key in j, "%s: json %s absent, expected present" % (tag, key))
            continue
        want = subst(want, facts)
        if col in NUMERIC:
            try:
                w = num(want)
            except ValueError:
                ck.check(False, "%s: expectation %s=%r is not a number" % (tag, col, want))
                continue
            ck.check(key in j and j[key] == w, "%s: json %s is %r, expected %d"
                     % (tag, key, j.get(key), w))
        else:
            ck.check(j.get(key) == want, "%s: json %s is %r, expected %r"
                     % (tag, key, j.get(key), want))
    ck.check(j.get("pid") == pid, "%s: json pid %r, expected %d" % (tag, j.get("pid"), pid))
    # The object's size: the class size of a kmalloc cache, at least the
    # requested size of another.
    if "object" in j:
        m = re.match(r"^kmalloc-(\d+)$", row["cache"])
        size = j.get("object_size")
        if m:
            ck.check(size == int(m.group(1)), "%s: json object_size %r, expected %s"
                     % (tag, size, m.group(1)))
        else:
            ck.check(isinstance(size, int) and size >= j.get("requested_size", 1 << 62),
                     "%s: json object_size %r smaller than requested_size %r"
                     % (tag, size, j.get("requested_size")))
    if j.get("kind") == "overwritten":
        # The fields agree with each other.
        try:
            start, end = num(j["fault_start"]), num(j["fault_end"])
            ck.check(j.get("length") == end - start + 1,
                     "%s: json length disagrees with fault_start/fault_end" % tag)
        except (KeyError, ValueError):
            ck.check(False, "%s: json fault_start/fault_end missing or bad" % tag)
        # The stray bytes as found: as many as `length`, the first one is
        # first_byte, and the range starts and ends on a wrong byte.
        try:
            found = bytes.fromhex(j["bytes"])
        except (KeyError, TypeError, ValueError):
            found = None
        ck.check(found is not None and len(found) == j.get("length") and
                 found[0] == j.get("first_byte") and found[0] != j.get("expected") and
                 found[-1] != j.get("expected"),
                 "%s: json bytes %r disagree with length/first_byte/expected"
                 % (tag, j.get("bytes")))

    # Tracks.
    for col, key, label in [("alloc", "alloc", "Allocated"), ("free", "free", "Freed")]:
        want = row[col]
        if want == "*":
            continue
        text_only = want.startswith("text:")
        name = want[5:] if text_only else want
        lines = [l for l in block if l.startswith(label + " in ")]
        if name == "-":
            ck.check(key not in j, "%s: json %s track present, expected none" % (tag, key))
            ck.check(not lines, "%s: text has '%s in', expected none" % (tag, label))
            continue
        if text_only:
            ck.check(key not in j, "%s: json %s track present, expected none" % (tag, key))
        else:
            t = j.get(key)
            ok = isinstance(t, dict)
            ck.check(ok and fn_name(t.get("function", "")) == name,
                     "%s: json %s.function is %r, expected %s"
                     % (tag, key, t.get("function") if ok else None, name))
            stack = t.get("stack", []) if ok else []
            ck.check(bool(stack) and fn_name(stack[0].get("function", "")) == name,
                     "%s: json %s.stack does not start in %s" % (tag, key, name))
            ck.check(any(fn_name(f.get("function", "")) in ("main", "start_thread")
                         for f in stack),
                     "%s: json %s.stack does not reach main (or a thread's start)"
                     % (tag, key))
            ck.check(ok and t.get("pid") == tids[key],
                     "%s: json %s.pid is %r, expected %d" % (tag, key, t.get("pid") if ok
                                                            else None, tids[key]))
        ck.check(any(l.startswith("%s in %s+" % (label, name)) for l in lines),
                 "%s: text has no '%s in %s+...' line (has %r)" % (tag, label, name, lines))
        if not text_only:
            ck.check(any(l.startswith("%s in %s+" % (label, name)) and
                         l.endswith(" pid=%d" % tids[key]) for l in lines),
                     "%s: text '%s in' line does not end in pid=%d" % (tag, label, tids[key]))

    # Who found it: in the JSON found_by stack and in the text Call Trace.
    want = row["found_by"]
    if want != "*":
        fb = [fn_name(f.get("function", "")) for f in j.get("found_by", [])]
        ck.check(want in fb, "%s: json found_by %r lacks %s" % (tag, fb, want))
        trace = []
        if "Call Trace:" in block:
            for l in block[block.index("Call Trace:") + 1:]:
                if not l.startswith(" "):
                    break
                trace.append(fn_name(l.strip().split(" ")[0]))
        ck.check(want in trace, "%s: text Call Trace %r lacks %s" % (tag, trace, want))

    # Text: header, first line of a byte finding, FIX line, extra substrings.
    cache = j.get("cache", row["cache"])
    reason = subst(row["reason"], facts)
    ck.check(len(block) > 1 and block[1] == "BUG %s (Not tainted): %s" % (row["cache"], reason),
             "%s: text header is %r, expected 'BUG %s (Not tainted): %s'"
             % (tag, block[1] if len(block) > 1 else None, row["cache"], reason))
    if row["first_byte"] != "*" and fault:
        line = "%s @offset=" % fault
        found = [l for l in block if l.startswith(line)]
        try:
            want_tail = ". First byte %#x instead of %#x" % (num(row["first_byte"]),
                                                             num(row["expected"]))
        except ValueError:
            want_tail = None
        ck.check(want_tail is not None and len(found) == 1 and found[0].endswith(want_tail),
                 "%s: text has no line '%s...%s' (has %r)" % (tag, line, want_tail, found))
    fix_want = "FIX %s: %s" % (cache, subst(row["fix"], facts, {"fault": fault or "?"}))
    fix_lines = [l for l in block if l.startswith("FIX ")]
    ck.check(fix_lines == [fix_want], "%s: text FIX line %r, expected %r"
             % (tag, fix_lines, fix_want))
    # The summary block: "Summary: " lines and the explain hint, last.
    summary = [l for l in block if l.startswith(SUMMARY_PREFIXES)]
    if "summary=0" in row["options"].split(":"):
        ck.check(not summary, "%s: summary=0, yet %r" % (tag, summary[:1]))
    else:
        ck.check(len(summary) >= 2 and summary[-1].startswith("explain: slabdbg explain ")
                 and all(l.startswith("Summary: ") for l in summary[:-1])
                 and block[-len(summary):] == summary,
                 "%s: no summary block ending in the explain hint after FIX (%r)"
                 % (tag, summary))

    # Where and when, and the signature (16 hex digits).
    ck.check(re.fullmatch(r"[0-9a-f]{16}", str(j.get("signature", ""))) is not None,
             "%s: json signature %r" % (tag, j.get("signature")))
    ck.check(isinstance(j.get("host"), str) and j.get("host") != "",
             "%s: json host %r" % (tag, j.get("host")))
    ck.check(j.get("program") == row["program"],
             "%s: json program %r, expected %r" % (tag, j.get("program"), row["program"]))
    ck.check(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z",
                          str(j.get("time", ""))) is not None,
             "%s: json time %r" % (tag, j.get("time")))

    if row["text_has"] != "-":
        for s in row["text_has"].split(","):
            s = subst(s, facts).replace("\\n", "\n")
            ck.check(s in text, "%s: text lacks %r" % (tag, s))


# ---- self-test: every check can fail ------------------------------------------------

def mutations_of_value(col, v):
    """Wrong expectations for one cell."""
    out = []
    if v == "*":
        return out
    if v == "+":
        return ["-"]
    if col in NUMERIC:
        if v == "-":
            out.append("0")
        elif not v.startswith("{"):
            out.append(str(num(v) + 1))
            out.append("-")
        else:
            out.append("-")
            out.append("12345")
    elif col in ("alloc", "free"):
        if v == "-":
            out += ["main", "text:main"]
        elif v.startswith("text:"):
            out += ["-", v[5:], v + "x"]
        else:
            out += ["-", "text:" + v, v + "x"]
    elif col == "found_by":
        out.append(v + "x")
    elif col == "text_has":
        out.append("no such text" if v == "-" else v + "x")
    elif col == "fix":
        out.append(v + "x")
    elif col == "exit":
        out.append("abort" if v == "0" else "0")
    elif col == "stdout":
        out.append("no_such_fact=1" if v == "-" else v + "x")
    else:
        out.append("zz" if v == "-" else "-")
        if v != "-":
            out.append(v + "x")
    return out


def mutilations(res):
    """Wrong outputs: (description, mutilated result)."""
    out = []

    def variant(desc, fn):
        r = copy.deepcopy(res)
        if fn(r) is not False:
            out.append((desc, r))

    def drop_lines(pred):
        def fn(r):
            lines = r.stderr.split("\n")
            kept = [l for l in lines if not pred(l)]
            if len(kept) == len(lines):
                return False
            r.stderr = "\n".join(kept)
        return fn

    variant("FIX line removed", drop_lines(lambda l: l.startswith("FIX ")))
    variant("BUG header removed", drop_lines(lambda l: l.startswith("BUG ")))
    variant("'Allocated in' removed", drop_lines(lambda l: l.startswith("Allocated in ")))
    variant("'Freed in' removed", drop_lines(lambda l: l.startswith("Freed in ")))
    variant("'First byte' line removed", drop_lines(lambda l: ". First byte " in l))
    variant("Call Trace emptied", drop_lines(lambda l: l.startswith(" ") and "+0x" in l))
    variant("summary block removed", drop_lines(lambda l: l.startswith(SUMMARY_PREFIXES)))
    variant("explain hint removed", drop_lines(lambda l: l.startswith("explain: ")))

    def stray(r):
        r.stderr += "slabdbg: something unexpected\n"
    variant("stray stderr line", stray)

    def drop_json(r):
        if not r.json_lines:
            return False
        r.json_lines = r.json_lines[1:]
    variant("first JSON line removed", drop_json)

    def extra_json(r):
        if not r.json_lines:
            r.json_lines = ['{"kind":"overwritten"}']
        else:
            r.json_lines.append(r.json_lines[-1])
    variant("JSON line added", extra_json)

    def other_pid(r):
        if not r.json_lines:
            return False
        m = re.search(r"^report_pid=(\d+)$", r.stdout, re.M)
        if m:
            r.stdout = r.stdout.replace(m.group(0), "report_pid=%d" % (int(m.group(1)) + 1))
        else:
            r.pid += 1
    variant("other pid", other_pid)

    def status(r):
        r.returncode = 1 if r.returncode == 0 else 0
    variant("exit status changed", status)

    def no_done(r):
        if "done\n" not in r.stdout:
            return False
        r.stdout = r.stdout.replace("done\n", "")
    variant("'done' removed", no_done)

    # Each JSON key the checker knows dropped in turn from the first report.
    if res.json_lines:
        keys = [k for k in json.loads(res.json_lines[0]) if k in KNOWN_JSON_KEYS]
        for key in keys:
            def drop_key(r, key=key):
                j = json.loads(r.json_lines[0])
                del j[key]
                r.json_lines[0] = json.dumps(j)
            variant("JSON key %s removed" % key, drop_key)
    return out


def selftest(cases, args):
    total_mut = total_rejected = passing = 0
    problems = []
    unchecked = set()
    for name, rows in sorted(cases.items()):
        res = run_case(rows, args)
        for line in res.json_lines:
            try:
                unchecked |= set(json.loads(line)) - KNOWN_JSON_KEYS
            except ValueError:
                pass
        failures, _ = check_case(rows, res)
        if failures:
            print("selftest: case %s fails as it stands (%s); not used" % (name, failures[0]))
            continue
        passing += 1
        # Mutated expectations.
        for ri, row in enumerate(rows):
            for col in COLUMNS[1:]:
                if col in ("case", "program", "args", "slabdbg", "options"):
                    continue
                if col == "report":
                    continue
                for mv in mutations_of_value(col, row[col]):
                    mutated = copy.deepcopy(rows)
                    if col in CASE_COLUMNS:
                        for r in mutated:
                            r[col] = mv
                    else:
                        mutated[ri][col] = mv
                    if row["report"] == "0" and col not in CASE_COLUMNS:
                        continue  # no report to compare the cell with
                    total_mut += 1
                    f, _ = check_case(mutated, res)
                    if f:
                        total_rejected += 1
                    else:
                        problems.append("%s: %s %r -> %r accepted" % (name, col, row[col], mv))
        # One report more, one report fewer.
        if rows[0]["report"] != "0":
            total_mut += 2
            extra = copy.deepcopy(rows) + [dict(copy.deepcopy(rows[-1]),
                                                report=str(len(rows) + 1))]
            if check_case(extra, res)[0]:
                total_rejected += 1
            else:
                problems.append("%s: an extra expected report accepted" % name)
            fewer = copy.deepcopy(rows[:-1]) or [dict(copy.deepcopy(rows[0]), report="0")]
            if check_case(fewer, res)[0]:
                total_rejected += 1
            else:
                problems.append("%s: a missing expected report accepted" % name)
        # Mutilated output.
        for desc, r in mutilations(res):
            total_mut += 1
            if check_case(rows, r)[0]:
                total_rejected += 1
            else:
                problems.append("%s: output with %s accepted" % (name, desc))
    print("selftest: %d passing case(s); %d of %d wrong variants rejected"
          % (passing, total_rejected, total_mut))
    for p in problems:
        print("selftest: NOT REJECTED: " + p)
    if unchecked:
        print("selftest: note: JSON keys not checked by run_bug.py: %s"
              % ", ".join(sorted(unchecked)))
    if passing < 5:
        print("selftest: too few passing cases to test the checker")
        return 1
    return 1 if problems else 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--table", required=True)
    ap.add_argument("--bindir", required=True)
    ap.add_argument("--lib", required=True)
    ap.add_argument("--workdir", required=True)
    ap.add_argument("--case")
    ap.add_argument("--selftest", action="store_true")
    ap.add_argument("--list", action="store_true")
    args = ap.parse_args()
    cases = cases_of(read_table(args.table))
    if args.list:
        print("\n".join(sorted(cases)))
        return 0
    if args.selftest:
        # A directory of its own: the per-case tests may run at the same time.
        args.workdir = os.path.join(args.workdir, "selftest")
        return selftest(cases, args)
    if args.case not in cases:
        print("no case %r in %s" % (args.case, args.table))
        return 2
    rows = cases[args.case]
    res = run_case(rows, args)
    failures, passed = check_case(rows, res)
    print("case %s: %s" % (args.case, open(os.path.join(args.workdir, args.case,
                                                         "command")).read().strip()))
    if failures:
        print("---- stdout\n%s---- stderr\n%s---- json\n%s" % (
            res.stdout, res.stderr[:20000], "\n".join(res.json_lines)))
        for f in failures:
            print("FAIL: " + f)
        print("case %s: %d check(s) failed, %d passed" % (args.case, len(failures), passed))
        return 1
    print("case %s: all %d checks passed" % (args.case, passed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
