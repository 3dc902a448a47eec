#!/usr/bin/env python3
"""The signal matrix: every cell of sigmatrix.c, run plainly and under
slabdbg in several modes; the output and the way the process ends must be
the same.  slabdbg's fault handler may see a signal first, but the program
must not be able to tell.

usage: run_matrix.py SIGMATRIX LIBSLABDBG [--quick]
Exits 0 when every cell matches; prints each mismatch, and the summary line
'N passed, N failed'."""
import concurrent.futures
import itertools
import os
import resource
import subprocess
import sys

MODES = {
    # name: environment added to LD_PRELOAD
    "default": {},
    "sample-all": {"SLABDBG_OPTIONS": "sample_rate=1"},
    "FZPU": {"SLABDBG": "FZPU"},
    "G": {"SLABDBG": "G"},
    "G-continue": {"SLABDBG": "G", "SLABDBG_OPTIONS": "guard_continue=1"},
}

SENDERS = ["kill", "raise", "pthread_kill", "sigqueue", "thread_kill", "fault",
           "fault_twice", "blocked", "restart_read", "fork_kill"]
OTHER_API_SENDERS = ["kill", "fault", "fault_twice", "restart_read"]


def cells(quick):
    for sig in ("segv", "bus"):
        for disp in ("dfl", "ign", "handler", "siginfo", "resethand", "nodefer", "masked"):
            for sender in SENDERS:
                yield (sig, "sigaction", disp, sender)
        if quick:
            continue
        for api in ("signal", "sysv_signal", "bsd_signal", "sigset"):
            for disp in ("dfl", "ign", "handler"):
                for sender in OTHER_API_SENDERS:
                    yield (sig, api, disp, sender)


def no_core():
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def run(prog, cell, env):
    e = {k: v for k, v in os.environ.items() if not k.startswith("SLABDBG")}
    e.pop("LD_PRELOAD", None)
    e.update(env)
    try:
        p = subprocess.run([prog, *cell], env=e, capture_output=True, timeout=60,
                           preexec_fn=no_core)
        return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")
    except subprocess.TimeoutExpired:
        return "timeout", "", ""


def check(prog, lib, cell):
    base_rc, base_out, base_err = run(prog, cell, {})
    problems = []
    for mode, env in MODES.items():
        env = dict(env, LD_PRELOAD=lib)
        rc, out, err = run(prog, cell, env)
        if rc != base_rc or out != base_out:
            problems.append(f"{' '.join(cell)} [{mode}]: plain exit {base_rc}, slabdbg exit {rc}\n"
                            f"  plain:   {base_out!r}\n  slabdbg: {out!r}\n  stderr:  {err[-300:]!r}")
        elif "BUG " in err:
            problems.append(f"{' '.join(cell)} [{mode}]: a report from slabdbg: {err[-300:]!r}")
    return cell, problems


def main():
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    prog, lib = sys.argv[1], sys.argv[2]
    quick = "--quick" in sys.argv
    all_cells = list(cells(quick))
    passed = failed = 0
    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as ex:
        for cell, problems in ex.map(lambda c: check(prog, lib, c), all_cells):
            if problems:
                failed += 1
                print("\n".join(problems))
            else:
                passed += 1
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
