#!/usr/bin/env python3
"""Tests of "slabdbg triage" on real reports.

    triage_test.py --cli SLABDBG --lib LIBSLABDBG --bin DIR --seed SEED
                   --fixtures DIR CASE

The reports are made here by the bug programs of tests/debug (DIR holds
them) and the seed example, run under "slabdbg run" as several processes:

    write_after_free middle 4   x3   Poison overwritten, freed in free_request
    double_free                 x2   Object already free, found in free_again
    right_redzone_overflow      x2   Right Redzone overwritten, allocated in alloc_buffer
    seed under G                x1   use-after-free write in drv_fib_complete

Each case is one ctest entry (triage.CASE); --list prints them.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from cases import Failure, case, check, run_cases  # noqa: E402


EXPECTED = {  # first frame -> (count, kind, what, cache, stack)
    "free_request": (3, "overwritten", "Poison", "kmalloc-256", "free"),
    "free_again": (2, "already_free", None, "kmalloc-208", "found_by"),
    "alloc_buffer": (2, "overwritten", "Right Redzone", "kmalloc-1024", "alloc"),
    "drv_fib_complete": (1, "use_after_free_write", None, "kmalloc-1024", "found_by"),
}





class T:
    def __init__(self, args):
        self.args = args
        self.dir = tempfile.mkdtemp(prefix="slabdbg-triage-test.")
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith("SLABDBG") and k != "LD_PRELOAD"}
        self.env["SLABDBG_LIB"] = args.lib

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def path(self, *names):
        return os.path.join(self.dir, *names)

    def triage(self, *args, input=None):
        return subprocess.run([self.args.cli, "triage", *args], capture_output=True, text=True,
                              input=input, env=self.env, timeout=120)

    def triage_json(self, *args, input=None):
        r = self.triage("--json", *args, input=input)
        check(r.returncode == 0, "triage --json %s: status %d: %s" % (args, r.returncode, r.stderr))
        try:
            return json.loads(r.stdout)
        except ValueError as e:
            raise Failure("triage --json output is not JSON (%s): %r" % (e, r.stdout[:300]))

    def make_reports(self, name, json_out=True, text_out=True):
        """Runs the bug programs; one file per process for each format."""
        d = self.path(name)
        os.makedirs(d)
        opts = []
        if json_out:
            opts.append("json=%s/r.%%p.json" % d)
        opts.append("log=%s/r.%%p.txt" % d if text_out else "log=")
        runs = [([self.args.bin + "/write_after_free", "middle", "4"], "FZPU")] * 3
        runs += [([self.args.bin + "/double_free"], "FZPU")] * 2
        runs += [([self.args.bin + "/right_redzone_overflow"], "FZPU")] * 2
        runs += [([self.args.seed], "G")]
        for cmd, flags in runs:
            subprocess.run([self.args.cli, "run", "-d", flags, "-o", ":".join(opts), "--"] + cmd,
                           env=self.env, capture_output=True, timeout=60)
        files = os.listdir(d)
        check(len([f for f in files if f.endswith(".json")]) == (8 if json_out else 0),
              "expected 8 JSON report files, got %r" % sorted(files))
        return d


def groups_by_frame(doc):
    out = {}
    for g in doc["groups"]:
        check(g["frames"], "group %s has no frames" % g["signature"])
        out[g["frames"][0]] = g
    return out


def check_groups(doc, what, times=True):
    """The four groups of the bug programs, as EXPECTED says."""
    got = groups_by_frame(doc)
    check(sorted(got) == sorted(EXPECTED), "%s: groups by first frame %r" % (what, sorted(got)))
    for frame, (count, kind, wh, cache, stack) in EXPECTED.items():
        g = got[frame]
        check(g["count"] == count, "%s: %s: count %d, expected %d" % (what, frame, g["count"], count))
        check(g["kind"] == kind, "%s: %s: kind %r" % (what, frame, g["kind"]))
        check(g.get("what") == wh, "%s: %s: what %r" % (what, frame, g.get("what")))
        check(g["cache"] == cache, "%s: %s: cache %r" % (what, frame, g["cache"]))
        check(g["stack"] == stack, "%s: %s: stack %r" % (what, frame, g["stack"]))
        check(re.fullmatch(r"[0-9a-f]{16}", g["signature"]), "signature %r" % g["signature"])
        check(g["processes"] == count, "%s: %s: %d processes" % (what, frame, g["processes"]))
        check(not times or g["first_seen"] and g["first_seen"] <= g["last_seen"],
              "%s: %s: seen %r .. %r" % (what, frame, g["first_seen"], g["last_seen"]))
        check(g["example"]["file"] and g["example"]["line"] >= 1, "%s: example %r" %
              (what, g["example"]))
    check(doc["reports"] == 8 and doc["signatures"] == 4,
          "%s: %d reports, %d signatures" % (what, doc["reports"], doc["signatures"]))
    return got


# ---------------------------------------------------------------- our reports

@case
def json_reports(t):
    """JSON reports (json=FILE) of 8 processes: 4 groups, counted, each with
    its kind, cache, stack, processes, times and an example report."""
    d = t.make_reports("reports", text_out=False)
    doc = t.triage_json(d)
    got = check_groups(doc, "JSON")
    check(doc["processes"] == 8 and doc["inputs"] == 8, "totals %r" % doc)
    for frame, g in got.items():
        ex = g["example"]["report"]
        check(ex["kind"] == g["kind"] and ex["cache"] == g["cache"],
              "%s: example %r" % (frame, ex))
    check(got["free_request"]["frames"] == ["free_request", "main", "__libc_start_call_main"],
          "Poison frames %r" % got["free_request"]["frames"])
    # the text output says the same
    r = t.triage(d)
    check(r.returncode == 0, "triage text: %d %s" % (r.returncode, r.stderr))
    check(r.stdout.startswith("8 reports in 4 groups, from 8 processes"),
          "text headline %r" % r.stdout.splitlines()[0])
    for frame, g in got.items():
        check(re.search(r"^%s  %d reports?  " % (g["signature"], g["count"]), r.stdout, re.M),
              "text output lacks the group line of %s" % frame)
    check("freed in     free_request < main < __libc_start_call_main" in r.stdout,
          "text output lacks the Poison group's stack")
    # most reports first
    counts = [g["count"] for g in doc["groups"]]
    check(counts == sorted(counts, reverse=True), "groups not sorted: %r" % counts)


@case
def text_matches_json(t):
    """The text reports of the same processes give the same groups and the
    same signatures as their JSON reports."""
    d = t.make_reports("reports")
    jdir, tdir = t.path("json"), t.path("text")
    os.makedirs(jdir)
    os.makedirs(tdir)
    for f in os.listdir(d):
        shutil.move(os.path.join(d, f), jdir if f.endswith(".json") else tdir)
    j = groups_by_frame(t.triage_json(jdir))
    x = check_groups(t.triage_json(tdir), "text")
    for frame in EXPECTED:
        check(j[frame]["signature"] == x[frame]["signature"],
              "%s: JSON signature %s, text %s" % (frame, j[frame]["signature"],
                                                  x[frame]["signature"]))
    progs = {p["name"] for p in x["free_request"]["programs"]}
    # the kernel's task name: 15 bytes at most
    check(len(progs) == 1 and "write_after_free".startswith(progs.pop()),
          "programs of the text reports: %r" % progs)
    check("Poison overwritten" in x["free_request"]["example"]["text"],
          "the text example lacks its header")


def text_reports(t):
    """(pid, [lines]) of each text report made by the bug programs."""
    d = t.make_reports("reports", json_out=False)
    out = []
    for f in sorted(os.listdir(d)):
        pid = int(f.split(".")[1])
        with open(os.path.join(d, f)) as fh:
            out.append((pid, fh.read().splitlines()))
    return out


def interleave(reports):
    """The lines of all reports, one of each in turn (as a busy log has them)."""
    seqs = [[(pid, i, l) for l in lines] for i, (pid, lines) in enumerate(reports)]
    out = []
    while any(seqs):
        for s in seqs:
            if s:
                out.append(s.pop(0))
    return out


def bsd_utc(mon, day, h, m, s):
    """A BSD syslog time (local, no year) in UTC, as triage reads it."""
    year = time.localtime().tm_year
    ts = time.mktime((year, mon, day, h, m, s, 0, 0, -1))
    if ts > time.time() + 86400:
        ts = time.mktime((year - 1, mon, day, h, m, s, 0, 0, -1))
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))


@case
def syslog_prefixes(t):
    """Reports in syslog files with their lines interleaved: journalctl
    -o short, -o short-iso and -o short-precise prefixes; host and time
    come from the prefix, the program from the report."""
    reports = text_reports(t)
    hosts = ["web1", "web2"]
    forms = {
        "short": lambda n, h, p: "Dec  2 04:25:%02d %s slabdbg[%d]: " % (n, h, p),
        "short-iso": lambda n, h, p: "2026-12-02T04:25:%02d+0000 %s slabdbg[%d]: " % (n, h, p),
        "short-precise": lambda n, h, p: "Dec 02 04:25:%02d.250000 %s slabdbg[%d]: " % (n, h, p),
    }
    lines = interleave(reports)
    for form, prefix in forms.items():
        path = t.path("syslog-" + form)
        with open(path, "w") as f:
            f.write("Dec  2 04:24:59 web1 systemd[1]: Started something.\n")
            for pid, i, l in lines:
                f.write(prefix(10 + i, hosts[i % 2], pid) + l + "\n")
        doc = t.triage_json(path)
        got = check_groups(doc, form)
        g = got["free_request"]  # reports 0, 1, 2: hosts web1, web2, web1; times :10 to :12
        check({h["name"]: h["count"] for h in g["hosts"]} == {"web1": 2, "web2": 1},
              "%s: hosts %r" % (form, g["hosts"]))
        check(g["timed"] == 3 and g["file_timed"] == 0, "%s: times %r" % (form, g))
        if form == "short-iso":
            want = ("2026-12-02T04:25:10Z", "2026-12-02T04:25:12Z")
        else:  # local time of a year not said: the latest not in the future
            want = (bsd_utc(12, 2, 4, 25, 10), bsd_utc(12, 2, 4, 25, 12))
        check((g["first_seen"], g["last_seen"]) == want,
              "%s: seen %s .. %s, expected %s .. %s" % ((form, g["first_seen"], g["last_seen"]) +
                                                       want))
        check(doc["hosts"] == 2, "%s: %d hosts" % (form, doc["hosts"]))


@case
def journal_export(t):
    """journalctl -o json (MESSAGE records, the indentation of stack lines
    kept or lost, a JSON report shipped as a message) and -o cat."""
    reports = text_reports(t)
    path = t.path("journal.json")
    with open(path, "w") as f:
        for pid, i, l in interleave(reports):
            msg = l.lstrip() if i % 2 else l  # the journal may strip indentation
            rec = {"MESSAGE": msg, "_HOSTNAME": "db%d" % (i % 3), "_PID": str(pid),
                   "_COMM": "prog%d" % i, "SYSLOG_IDENTIFIER": "slabdbg",
                   "__REALTIME_TIMESTAMP": str((1764649501 + i) * 1000000)}
            f.write(json.dumps(rec) + "\n")
    doc = t.triage_json(path)
    got = check_groups(doc, "journal -o json")
    check(doc["hosts"] == 3, "hosts %r" % doc["hosts"])
    check(got["free_request"]["first_seen"] == "2025-12-02T04:25:01Z",
          "first seen %r" % got["free_request"]["first_seen"])
    # JSON reports shipped through the journal by a log forwarder
    d = t.make_reports("json-reports", text_out=False)
    path2 = t.path("forwarded.json")
    with open(path2, "w") as f:
        for n, name in enumerate(sorted(os.listdir(d))):
            with open(os.path.join(d, name)) as fh:
                for line in fh:
                    # as an older slabdbg wrote them, without "host": the
                    # journal's _HOSTNAME names the machine
                    rep = json.loads(line)
                    rep.pop("host", None)
                    line = json.dumps(rep)
                    f.write(json.dumps({"MESSAGE": line.rstrip("\n"), "_HOSTNAME": "fw",
                                        "__REALTIME_TIMESTAMP": str(1764649501000000 + n)})
                            + "\n")
    doc = t.triage_json(path2)
    got2 = check_groups(doc, "forwarded JSON reports")
    for frame in EXPECTED:
        check(got2[frame]["signature"] == got[frame]["signature"],
              "%s: forwarded JSON and journal text disagree" % frame)
        check(got2[frame]["hosts"] == [{"name": "fw", "count": EXPECTED[frame][0]}],
              "%s: hosts %r" % (frame, got2[frame]["hosts"]))
    # -o cat: bare lines of one process at a time, read from standard input
    cat = "".join(l + "\n" for _, lines in reports for l in lines)
    doc = t.triage_json("-", input=cat)
    check_groups(doc, "journal -o cat", times=False)


@case
def given_fields(t):
    """A report's own signature, host, program and time are used as given."""
    d = t.make_reports("reports", text_out=False)
    out = t.path("given.json")
    with open(out, "w") as f:
        for n, name in enumerate(sorted(os.listdir(d))):
            with open(os.path.join(d, name)) as fh:
                for line in fh:
                    rep = json.loads(line)
                    rep["host"] = "h%d" % (n % 2)
                    rep["program"] = "svc"
                    rep["time"] = (1764649501 + n) if n % 2 else \
                        "2025-12-02T04:25:%02d.5Z" % (1 + n)
                    if rep["kind"] == "already_free":
                        rep["signature"] = "custom-double-free"
                    f.write(json.dumps(rep) + "\n")
    doc = t.triage_json(out)
    sigs = {g["signature"]: g for g in doc["groups"]}
    check("custom-double-free" in sigs and sigs["custom-double-free"]["count"] == 2,
          "given signature not used: %r" % sorted(sigs))
    for g in doc["groups"]:
        check(g["programs"] == [{"name": "svc", "count": g["count"]}], "programs %r" % g)
        check(g["timed"] == g["count"] and g["file_timed"] == 0, "times %r" % g)
    check(doc["hosts"] == 2, "hosts %d" % doc["hosts"])
    times = sorted(g["first_seen"] for g in doc["groups"])
    check(times[0] == "2025-12-02T04:25:01Z", "first seen %r" % times)


@case
def kernel_logs(t):
    """The kernel's SLUB reports (the seed incident's syslog, dmesg, 5.13
    and 2025 layouts) are grouped too: the kernel's own frames skipped."""
    doc = t.triage_json(t.args.fixtures)
    poison = [g for g in doc["groups"] if g["frames"][:1] == ["__blk_put_request"]]
    check(poison, "no group freed in __blk_put_request: %r" %
          [(g["kind"], g["frames"]) for g in doc["groups"]])
    g = poison[0]
    check(g["kind"] == "overwritten" and g["what"] == "Poison" and g["cache"] == "kmalloc-1024",
          "seed group %r" % g)
    check(g["frames"] == ["__blk_put_request", "scsi_end_request", "scsi_io_completion"],
          "seed frames %r" % g["frames"])
    check(g["count"] == 2, "the seed log and its dmesg twin: %d" % g["count"])
    check({"name": "cvk126", "count": 1} in g["hosts"], "hosts %r" % g["hosts"])
    hashed = [gr for gr in doc["groups"] if gr["frames"][:1] == ["drv_free_cmd"]]
    check(hashed, "5.13 report: kfree not skipped: %r" % [gr["frames"] for gr in doc["groups"]])


# ---------------------------------------------------------------- the command

@case
def command_line(t):
    """Exit statuses and messages; --top; standard input; nothing found."""
    d = t.make_reports("reports", text_out=False)
    r = t.triage(d, "--top", "1")
    check(r.returncode == 0, "--top 1: %d" % r.returncode)
    check(len(re.findall(r"^[0-9a-f]{16}  ", r.stdout, re.M)) == 1, "--top 1 shows: %r" % r.stdout)
    check("(3 smaller groups not shown)" in r.stdout, "--top 1 does not say what it left out")
    r = t.triage(d, "--examples")
    check(r.stdout.count('"kind":') == 4, "--examples prints each example once")
    r = t.triage(t.path("missing"))
    check(r.returncode == 2 and r.stderr.strip() ==
          "slabdbg triage: %s: No such file or directory" % t.path("missing"),
          "missing input: %d %r" % (r.returncode, r.stderr))
    r = t.triage(d, t.path("missing"))
    check(r.returncode == 2 and r.stdout.startswith("8 reports"),
          "one missing input of two: %d %r" % (r.returncode, r.stdout[:80]))
    os.makedirs(t.path("empty"))
    with open(t.path("empty", "noise.log"), "w") as f:
        f.write("hello\n{\"not\": \"a report\"}\n{broken json\n\x00\x01binary\n")
    r = t.triage(t.path("empty"))
    check(r.returncode == 1 and "no reports" in r.stderr and not r.stdout,
          "no reports: %d %r %r" % (r.returncode, r.stdout, r.stderr))
    for args, words in ((["--top", "x", d], "--top wants"), (["--bogus", d], "unknown option"),
                        (["--top"], "needs a value")):
        r = t.triage(*args)
        check(r.returncode == 2 and r.stderr.startswith("slabdbg triage: ") and words in r.stderr
              and len(r.stderr.splitlines()) == 1, "%s: %d %r" % (args, r.returncode, r.stderr))
    r = t.triage()
    check(r.returncode == 2 and "usage:" in r.stderr, "no arguments: %d" % r.returncode)
    r = t.triage("--help")
    check(r.returncode == 0 and "usage: slabdbg triage" in r.stdout, "--help")
    cat = "".join(open(os.path.join(d, f)).read() for f in sorted(os.listdir(d)))
    doc = t.triage_json("-", input=cat)
    check(doc["groups"][0]["first_seen"] is not None, "the reports' own times not used")
    # reports without "time" (an older slabdbg) on standard input: no time at all
    cat = "".join(json.dumps({k: v for k, v in json.loads(l).items() if k != "time"}) + "\n"
                  for l in cat.splitlines() if l.strip())
    doc = t.triage_json("-", input=cat)
    check(doc["groups"][0]["first_seen"] is None, "standard input has no file times")
    check(doc["reports"] == 8 and doc["signatures"] == 4, "standard input: %r" % doc["reports"])
    r = subprocess.run([t.args.cli, "--help"], capture_output=True, text=True)
    check("triage" in r.stdout, "slabdbg --help does not list triage")


if __name__ == "__main__":
    sys.exit(run_cases("triage", T, ["cli", "lib", "bin", "seed", "fixtures"]))
