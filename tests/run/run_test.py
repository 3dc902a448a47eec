#!/usr/bin/env python3
"""Tests of "slabdbg run" as a transparent wrapper.

    run_test.py --cli SLABDBG --lib LIBSLABDBG --sigwatch SIGWATCH CASE

Each CASE is one ctest entry (run.CASE); --list prints them.  The child in
most cases is progs/sigwatch, which writes a line per signal it receives
("<signal> <si_code> <si_value>"), so a case can check that a signal sent
to the wrapper arrived exactly once and how it was sent.
"""
import ctypes
import os
import pty
import re
import resource
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
from cases import Failure, case, check, run_cases  # noqa: E402

SI_USER, SI_QUEUE, SI_KERNEL = 0, -1, 0x80





def wait_for(pred, what, timeout=10.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(0.02)
    raise Failure("timed out waiting for " + what)


def no_core():
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def own_group():
    """The wrapper in a process group of its own, not orphaned (we are its
    parent in the same session), so that it can stop like a shell's job."""
    no_core()
    os.setpgrp()


class T:
    def __init__(self, args):
        self.cli, self.lib, self.sigwatch = args.cli, args.lib, args.sigwatch
        self.dir = tempfile.mkdtemp(prefix="slabdbg-run-test.")
        self.tmpdir = os.path.join(self.dir, "tmp")  # the wrapper's TMPDIR
        os.mkdir(self.tmpdir)
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith("SLABDBG") and k != "LD_PRELOAD"}
        self.env["SLABDBG_LIB"] = self.lib
        self.env["TMPDIR"] = self.tmpdir

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def path(self, name):
        return os.path.join(self.dir, name)

    def start(self, cmd, run_opts=(), env=None, **kw):
        kw.setdefault("preexec_fn", own_group)
        return subprocess.Popen([self.cli, "run", *run_opts, "--", *cmd],
                                env=env or self.env, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, **kw)

    def run(self, cmd, run_opts=(), env=None, timeout=60, **kw):
        kw.setdefault("preexec_fn", no_core)
        return subprocess.run([self.cli, "run", *run_opts, "--", *cmd], env=env or self.env,
                              capture_output=True, text=True, timeout=timeout, **kw)

    def tmp_left(self):
        return os.listdir(self.tmpdir)


def wait_ready(p, timeout=10.0):
    r, _, _ = select.select([p.stdout], [], [], timeout)
    check(r, "the child never said it was ready")
    line = p.stdout.readline()
    check(line.strip() == b"ready", "the child said %r instead of ready" % line)


def read_log(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [tuple(int(x) for x in line.split()) for line in f if line.strip()]


def received(log, sig):
    return [e for e in log if e[0] == sig]


def children_of(pid):
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


def state_of(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return None


def alive(pid):
    st = state_of(pid)
    return st is not None and st != "Z"


def sigqueue(pid, sig, value):
    libc = ctypes.CDLL(None, use_errno=True)
    libc.sigqueue.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_long]
    if libc.sigqueue(pid, sig, value) != 0:
        raise OSError(ctypes.get_errno(), "sigqueue")


def finish(p, timeout=20):
    """SIGTERM to the wrapper ends sigwatch with status 0."""
    os.kill(p.pid, signal.SIGTERM)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        raise Failure("the wrapper did not end after SIGTERM (child left running?)")
    return p.returncode, err.decode(errors="replace")


# ---------------------------------------------------------------- signals

@case
def signals_forwarded(t):
    """Each signal sent to the wrapper reaches the child exactly once;
    sigqueue's value survives; SIGTERM ends the run with the child's status."""
    log = t.path("log")
    p = t.start([t.sigwatch, "signals", log])
    wait_ready(p)
    sent = [signal.SIGHUP, signal.SIGINT, signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2,
            signal.SIGALRM, signal.SIGWINCH, signal.SIGPIPE, signal.SIGCONT]
    for s in sent:
        os.kill(p.pid, s)
        wait_for(lambda: received(read_log(log), s), "%s in the child" % signal.Signals(s).name)
    rt = signal.SIGRTMIN + 1
    sigqueue(p.pid, rt, 1234)
    wait_for(lambda: received(read_log(log), rt), "SIGRTMIN+1 in the child")
    rc, err = finish(p)
    check(rc == 0, "wrapper exited %d after SIGTERM (child's status 0): %s" % (rc, err))
    entries = read_log(log)
    for s in sent + [signal.SIGTERM]:
        got = received(entries, s)
        check(len(got) == 1, "%s arrived %d times" % (signal.Signals(s).name, len(got)))
        check(got[0][1] == SI_USER, "%s arrived with si_code %d, not SI_USER" %
              (signal.Signals(s).name, got[0][1]))
    got = received(entries, rt)
    check(len(got) == 1 and got[0][1] == SI_QUEUE and got[0][2] == 1234,
          "sigqueue(SIGRTMIN+1, 1234) arrived as %r" % got)
    check(not t.tmp_left(), "temporary files left: %r" % t.tmp_left())


@case
def group_signal_once(t):
    """A signal the child sends to its own process group (which holds the
    wrapper too) is not sent to it a second time."""
    log = t.path("log")
    p = t.start([t.sigwatch, "killgroup", log])
    wait_ready(p)
    time.sleep(0.3)
    rc, err = finish(p)
    check(rc == 0, "wrapper exited %d: %s" % (rc, err))
    got = received(read_log(log), signal.SIGUSR1)
    check(len(got) == 1, "kill(0, SIGUSR1) by the child reached it %d times" % len(got))


def pty_spawn(argv, env):
    pid, master = pty.fork()
    if pid == 0:
        try:
            no_core()
            os.execve(argv[0], argv, env)
        finally:
            os._exit(127)
    return pid, master


def pty_expect(master, text, timeout=10.0):
    buf = b""
    end = time.monotonic() + timeout
    while text not in buf:
        left = end - time.monotonic()
        check(left > 0, "terminal never showed %r (got %r)" % (text, buf[-300:]))
        r, _, _ = select.select([master], [], [], left)
        if r:
            try:
                chunk = os.read(master, 4096)
            except OSError:
                chunk = b""
            check(chunk, "terminal closed before showing %r (got %r)" % (text, buf[-300:]))
            buf += chunk
    return buf


@case
def terminal_keys(t):
    """^C and ^\\ on the terminal reach the child once (the terminal signals
    the whole process group; the wrapper must not add a copy)."""
    log = t.path("log")
    pid, master = pty_spawn([t.cli, "run", "--", t.sigwatch, "signals", log], t.env)
    try:
        pty_expect(master, b"ready")
        for key, s in ((b"\x03", signal.SIGINT), (b"\x1c", signal.SIGQUIT)):
            os.write(master, key)
            wait_for(lambda: received(read_log(log), s), "%s from the terminal" % s.name)
        time.sleep(0.3)
        os.kill(pid, signal.SIGTERM)
        _, status = os.waitpid(pid, 0)
    finally:
        os.close(master)
    check(os.waitstatus_to_exitcode(status) == 0, "wrapper status %#x" % status)
    entries = read_log(log)
    for s in (signal.SIGINT, signal.SIGQUIT):
        got = received(entries, s)
        check(len(got) == 1, "%s from the terminal arrived %d times" % (s.name, len(got)))
        check(got[0][1] == SI_KERNEL, "%s from the terminal has si_code %d" % (s.name, got[0][1]))


@case
def job_control(t):
    """SIGTSTP sent to the wrapper stops the child and then the wrapper (so a
    shell sees its job stopped); SIGCONT continues both."""
    log = t.path("log")
    p = t.start([t.sigwatch, "signals", log])
    wait_ready(p)
    child = wait_for(lambda: children_of(p.pid), "the wrapper's child")[0]
    os.kill(p.pid, signal.SIGTSTP)
    wait_for(lambda: state_of(child) == "T", "the child to stop")
    wait_for(lambda: state_of(p.pid) == "T", "the wrapper to stop after its child")
    os.kill(p.pid, signal.SIGCONT)
    wait_for(lambda: state_of(p.pid) not in ("T", None), "the wrapper to continue")
    wait_for(lambda: state_of(child) not in ("T", None), "the child to continue")
    rc, err = finish(p)
    check(rc == 0, "wrapper exited %d: %s" % (rc, err))
    check(received(read_log(log), signal.SIGCONT), "the child was not told SIGCONT")


@case
def terminal_suspend(t):
    """^Z in a shell's job: the child and the wrapper stop, the shell gets its
    terminal back; "fg" (SIGCONT to the job) continues both."""
    log = t.path("log")
    rfd, wfd = os.pipe()  # the mini shell reports on it
    cfd, cwfd = os.pipe()  # and waits for "fg" on this one
    pid, master = pty.fork()
    if pid == 0:  # a mini shell: the job in its own process group, in the foreground
        try:
            os.close(rfd)
            os.close(cwfd)
            no_core()
            job = os.fork()
            if job == 0:
                os.setpgid(0, 0)
                os.execve(t.cli, [t.cli, "run", "--", t.sigwatch, "signals", log], t.env)
            os.setpgid(job, job)
            os.tcsetpgrp(0, job)
            os.write(wfd, b"job %d\n" % job)
            while True:
                _, st = os.waitpid(job, os.WUNTRACED)
                if os.WIFSTOPPED(st):
                    signal.signal(signal.SIGTTOU, signal.SIG_IGN)
                    os.tcsetpgrp(0, os.getpgrp())
                    os.write(wfd, b"stopped %d\n" % os.WSTOPSIG(st))
                    os.read(cfd, 3)
                    os.tcsetpgrp(0, job)
                    os.killpg(job, signal.SIGCONT)
                    continue
                os.write(wfd, b"exited %d\n" % os.waitstatus_to_exitcode(st))
                os._exit(0)
        finally:
            os._exit(1)
    os.close(wfd)
    os.close(cfd)
    shell = os.fdopen(rfd, "rb")
    try:
        job = int(shell.readline().split()[1])
        pty_expect(master, b"ready")
        child = wait_for(lambda: children_of(job), "the wrapper's child")[0]
        os.write(master, b"\x1a")
        line = shell.readline()
        check(line.split() == [b"stopped", str(int(signal.SIGTSTP)).encode()],
              "the shell saw %r after ^Z" % line)
        check(state_of(child) == "T", "the child is %s, not stopped" % state_of(child))
        os.write(cwfd, b"fg\n")
        wait_for(lambda: state_of(child) not in ("T", None), "the child to continue")
        os.write(master, b"\x03")
        wait_for(lambda: received(read_log(log), signal.SIGINT), "^C after fg")
        os.kill(job, signal.SIGTERM)
        line = shell.readline()
        check(line.split() == [b"exited", b"0"], "the shell saw %r at the end" % line)
    finally:
        os.close(master)
        os.waitpid(pid, 0)
    check(len(received(read_log(log), signal.SIGINT)) == 1, "^C after fg arrived more than once")


@case
def signal_state(t):
    """The child inherits the caller's ignored signals and signal mask."""
    def setup():
        no_core()
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        signal.signal(signal.SIGCHLD, signal.SIG_IGN)
        signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGUSR1, signal.SIGWINCH])

    def sig_lines(text):
        return [l for l in text.splitlines() if l.startswith(("SigBlk", "SigIgn"))]

    plain = subprocess.run(["cat", "/proc/self/status"], capture_output=True, text=True,
                           preexec_fn=setup, env=t.env)
    wrapped = t.run(["cat", "/proc/self/status"], preexec_fn=setup)
    check(wrapped.returncode == 0, "wrapped cat failed: %s" % wrapped.stderr)
    check(sig_lines(plain.stdout) == sig_lines(wrapped.stdout),
          "signal state differs: plain %r, wrapped %r" %
          (sig_lines(plain.stdout), sig_lines(wrapped.stdout)))


@case
def killed_by_signal(t):
    """A child killed by SIGINT kills the wrapper with SIGINT too (a shell's
    loop stops); other signals give 128+N."""
    for s, want in ((signal.SIGINT, -signal.SIGINT), (signal.SIGTERM, 128 + signal.SIGTERM),
                    (signal.SIGKILL, 128 + signal.SIGKILL)):
        r = t.run(["sh", "-c", "kill -%d $$" % s])
        check(r.returncode == want, "child killed by %s: wrapper returned %d, expected %d"
              % (s.name, r.returncode, want))
    check(not t.tmp_left(), "temporary files left: %r" % t.tmp_left())


# ---------------------------------------------------------------- temporary file

@case
def tmpfile_removed(t):
    """The status file goes whatever ends the run: exit, exec failure, signals
    to the wrapper, the child killed."""
    r = t.run(["true"])
    check(r.returncode == 0 and not t.tmp_left(), "after exit 0: %r" % t.tmp_left())
    r = t.run([t.path("no-such-program")])
    check(r.returncode == 127, "missing program: status %d" % r.returncode)
    check("no-such-program" in r.stderr, "missing program: message %r" % r.stderr)
    check(not t.tmp_left(), "after exec failure: %r" % t.tmp_left())
    with open(t.path("not-executable"), "w") as f:
        f.write("#!/bin/sh\n")
    r = t.run([t.path("not-executable")])
    check(r.returncode == 126, "non-executable program: status %d" % r.returncode)
    check(not t.tmp_left(), "after exec failure: %r" % t.tmp_left())
    for s in (signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGINT, signal.SIGUSR1):
        p = t.start(["sleep", "60"])
        child = wait_for(lambda: children_of(p.pid), "the wrapper's child")[0]
        wait_for(lambda: t.tmp_left(), "the status file")
        os.kill(p.pid, s)
        try:
            p.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()
            p.communicate()
            raise Failure("%s to the wrapper: it did not end" % s.name)
        want = -s if s == signal.SIGINT else 128 + s
        check(p.returncode == want, "%s: wrapper returned %d, expected %d" %
              (s.name, p.returncode, want))
        check(not alive(child), "%s to the wrapper left its child running" % s.name)
        check(not t.tmp_left(), "%s to the wrapper left %r" % (s.name, t.tmp_left()))


# ---------------------------------------------------------------- the library path

def install_tree(t, root):
    """A copy of the command and the library as installed under `root`."""
    os.makedirs(os.path.join(root, "bin"))
    os.makedirs(os.path.join(root, "lib"))
    shutil.copy(t.cli, os.path.join(root, "bin", "slabdbg"))
    shutil.copy(t.lib, os.path.join(root, "lib", "libslabdbg.so.0"))
    return os.path.join(root, "bin", "slabdbg")


@case
def preload_path(t):
    """A library path that LD_PRELOAD cannot hold (space, colon) is refused
    with a message instead of running the program without slabdbg."""
    env = dict(t.env)
    del env["SLABDBG_LIB"]
    for name in ("with space", "with:colon"):
        d = t.path(name)
        os.makedirs(d)
        lib = os.path.join(d, "libslabdbg.so")
        shutil.copy(t.lib, lib)
        r = t.run(["sh", "-c", "echo ran"], env=dict(env, SLABDBG_LIB=lib))
        check(r.returncode == 125, "SLABDBG_LIB=%r: status %d, expected 125" % (lib, r.returncode))
        check("ran" not in r.stdout, "SLABDBG_LIB=%r: the program ran anyway" % lib)
        check("LD_PRELOAD" in r.stderr and lib in r.stderr,
              "SLABDBG_LIB=%r: message %r" % (lib, r.stderr))
        cli = install_tree(t, t.path("inst " + name))
        r = subprocess.run([cli, "run", "--", "sh", "-c", "echo ran"], env=env,
                           capture_output=True, text=True, timeout=60)
        check(r.returncode == 125, "installed under %r: status %d" % (name, r.returncode))
        check("LD_PRELOAD" in r.stderr, "installed under %r: message %r" % (name, r.stderr))
        check(len(r.stderr.splitlines()) == 1, "more than one line: %r" % r.stderr)
    cli = install_tree(t, t.path("inst-plain"))
    r = subprocess.run([cli, "run", "--", "sh", "-c", 'echo "$LD_PRELOAD"'], env=env,
                       capture_output=True, text=True, timeout=60)
    check(r.returncode == 0, "installed without spaces: status %d: %s" % (r.returncode, r.stderr))
    check(r.stdout.strip() == t.path("inst-plain/lib/libslabdbg.so.0"),
          "installed without spaces: LD_PRELOAD=%r" % r.stdout.strip())


# ---------------------------------------------------------------- summary

def last_line(text):
    lines = text.strip().splitlines()
    return lines[-1] if lines else ""


@case
def summary(t):
    """The closing line names where the reports went."""
    bug = [t.sigwatch, "double-free"]
    r = t.run(bug, ["-d", "F"])
    check(r.returncode == 1, "double free under F: status %d" % r.returncode)
    check("Object already free" in r.stderr, "no report on stderr: %r" % r.stderr[-500:])
    check(last_line(r.stderr) == "slabdbg: 1 report on standard error",
          "stderr summary: %r" % last_line(r.stderr))

    logs = t.path("logs")
    os.mkdir(logs)
    r = t.run(bug, ["-d", "F", "-o", "log=%s/r.%%p:json=%s/j.%%p" % (logs, logs)])
    files = sorted(os.listdir(logs))
    check(len(files) == 2, "log files: %r" % files)
    pid = files[0][2:]
    check("Object already free" in open(os.path.join(logs, "r." + pid)).read(),
          "the log file holds no report")
    want = "slabdbg: 1 report in %s/r.%s; JSON in %s/j.%s" % (logs, pid, logs, pid)
    check(last_line(r.stderr) == want, "file summary: %r, expected %r" %
          (last_line(r.stderr), want))
    check("Object already free" not in r.stderr, "report on stderr despite log=")

    # several processes, one log file each
    r = t.run(["sh", "-c", "%s double-free; %s double-free" % (t.sigwatch, t.sigwatch)],
              ["-d", "F", "-o", "log=%s/m.%%p" % logs])
    got = last_line(r.stderr)
    mfiles = sorted(f for f in os.listdir(logs) if f.startswith("m."))
    check(len(mfiles) == 2, "log files of two processes: %r" % mfiles)
    check(got.startswith("slabdbg: 2 reports in ") and
          all(os.path.join(logs, f) in got for f in mfiles), "two-process summary: %r" % got)

    r = t.run(bug, ["-d", "F", "-o", "log=%s/fixed.log" % logs])
    check(last_line(r.stderr) == "slabdbg: 1 report in %s/fixed.log" % logs,
          "fixed file summary: %r" % last_line(r.stderr))

    r = t.run(bug, ["-d", "F", "-o", "log=syslog"])
    if os.path.exists("/dev/log"):
        want = "slabdbg: 1 report sent to syslog (journalctl -t slabdbg)"
    else:
        want = "slabdbg: 1 report on standard error (log=syslog, but no /dev/log)"
    check(last_line(r.stderr) == want, "syslog summary: %r" % last_line(r.stderr))

    r = t.run(bug, ["-d", "F", "-o", "log=/nonexistent-dir/r.log"])
    check("no file /nonexistent-dir/r.log" in last_line(r.stderr),
          "unwritable log summary: %r" % last_line(r.stderr))


# ---------------------------------------------------------------- environment

@case
def environment(t):
    """The child's environment is the caller's plus LD_PRELOAD and SLABDBG*."""
    env = dict(t.env, ODD_VALUE="a b:c=d", EMPTY="", LD_LIBRARY_PATH="/nowhere")
    plain = subprocess.run(["env", "-0"], capture_output=True, env=env)
    wrapped = subprocess.run([t.cli, "run", "-d", "F", "--", "env", "-0"], capture_output=True,
                             env=env)
    check(wrapped.returncode == 0, "env -0 under the wrapper: %r" % wrapped.stderr)

    def parse(b):
        return dict(x.split(b"=", 1) for x in b.split(b"\0") if x)

    a, b = parse(plain.stdout), parse(wrapped.stdout)
    changed = sorted(k.decode() for k in set(a) | set(b) if a.get(k) != b.get(k))
    check(all(k == "LD_PRELOAD" or k.startswith("SLABDBG") for k in changed),
          "variables changed by the wrapper: %r" % changed)
    check(b.get(b"SLABDBG") == b"F", "SLABDBG not set by -d")
    check(b.get(b"LD_PRELOAD", b"").endswith(b"libslabdbg.so") or b"libslabdbg" in b[b"LD_PRELOAD"],
          "LD_PRELOAD=%r" % b.get(b"LD_PRELOAD"))


# ---------------------------------------------------------------- options

@case
def options(t):
    """Every spelling of the options sets what it says in the child's
    environment; bad ones are refused with one line and status 2."""
    show = ["sh", "-c", 'printf "%s|%s" "${SLABDBG-unset}" "$SLABDBG_OPTIONS"']

    def child_env(*opts):
        r = t.run(show, list(opts))
        check(r.returncode == 0, "slabdbg run %s: status %d: %s" %
              (" ".join(opts), r.returncode, r.stderr))
        flags, settings = r.stdout.split("|", 1)
        return flags, [o for o in settings.split(":") if not o.startswith("status_file=")]

    for opts in (["-d", "FZPU"], ["-dFZPU"], ["--debug", "FZPU"], ["--debug=FZPU"]):
        check(child_env(*opts)[0] == "FZPU", "%s did not set SLABDBG=FZPU" % opts)
    check(child_env("-d", "")[0] == "", "-d '' did not set an empty SLABDBG (FZPU everywhere)")
    for opts in (["-o", "json=/x"], ["-ojson=/x"], ["--options", "json=/x"],
                 ["--options=json=/x"]):
        check(child_env(*opts)[1] == ["json=/x"], "%s gave %r" % (opts, child_env(*opts)[1]))
    got = child_env("-o", "log=/a", "--options=json=/b:stack_depth=4")[1]
    check(got == ["log=/a", "json=/b", "stack_depth=4"], "two -o: %r" % got)
    for opts, want in ((["-v"], "verbose=1"), (["--verbose"], "verbose=1"),
                       (["--color"], "color=always"), (["--color=auto"], "color=auto"),
                       (["--color=always"], "color=always"), (["--color=never"], "color=never"),
                       (["--colour=never"], "color=never")):
        got = child_env(*opts)[1]
        check(got == [want], "%s gave SLABDBG_OPTIONS %r, expected %s" % (opts, got, want))
    r = t.run(["sh", "-c", "exit 0"], ["--error-exitcode=7", "-d", "F"])
    check(r.returncode == 0, "--error-exitcode=7 without reports: %d" % r.returncode)
    r = t.run([t.sigwatch, "double-free"], ["--error-exitcode=7", "-dF"])
    check(r.returncode == 7, "--error-exitcode=7 with a report: %d" % r.returncode)
    r = t.run([t.sigwatch, "double-free"], ["--error-exitcode", "9", "--debug=F"])
    check(r.returncode == 9, "--error-exitcode 9 with a report: %d" % r.returncode)

    # options after COMMAND are COMMAND's
    r = t.run(["sh", "-c", 'echo "$SLABDBG|$0"', "-dX"])
    check(r.stdout.strip() == "|-dX", "an option after COMMAND was taken: %r" % r.stdout)

    for opts, words in ((["--color=bright"], "auto, always or never"),
                        (["-d"], "needs a value"), (["--debug"], "needs a value"),
                        (["--bogus"], "unknown option '--bogus'"), (["-x"], "unknown option"),
                        (["--error-exitcode=300"], "0 to 255"),
                        (["--error-exitcode="], "0 to 255")):
        r = subprocess.run([t.cli, "run", *opts] + ([] if opts == ["-d"] or opts == ["--debug"]
                                                    else ["--", "true"]),
                           env=t.env, capture_output=True, text=True, timeout=30)
        check(r.returncode == 2, "%s: status %d, expected 2" % (opts, r.returncode))
        lines = r.stderr.strip().splitlines()
        check(len(lines) == 1 and words in lines[0] and lines[0].startswith("slabdbg run: "),
              "%s: message %r" % (opts, r.stderr))

    r = subprocess.run([t.cli, "run", "--help"], env=t.env, capture_output=True, text=True)
    check(r.returncode == 0, "--help: status %d" % r.returncode)
    for words in ("G guard", "--debug=FLAGS", "--options=OPTS", "--verbose", "--color",
                  "--error-exitcode"):
        check(words in r.stdout, "run --help does not mention %r" % words)
    table = open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "src",
                              "base", "options_table.h")).read()
    for name in re.findall(r"^\s*X\((\w+),", table, re.M):
        check(re.search(r"^  %s " % name, r.stdout, re.M), "run --help lacks option %s" % name)


if __name__ == "__main__":
    sys.exit(run_cases("run", T, ["cli", "lib", "sigwatch"]))
