#!/usr/bin/env python3
"""The fork matrix: forkmatrix.c's scenarios in several slabdbg modes.
Every child must finish (no deadlock in a lock held across fork), exit 0,
and write its own reports (one JSON file per process: the double free each
child makes must be there).

usage: run_forks.py FORKMATRIX LIBSLABDBG"""
import glob
import json
import os
import subprocess
import sys
import tempfile

MODES = {
    "default": {},
    "FZPU": {"SLABDBG": "FZPU"},
    "G": {"SLABDBG": "G,kmalloc-96,kmalloc-208"},
    "sample-all": {"SLABDBG_OPTIONS": "sample_rate=1"},
}
SCENARIOS = [("main_forks", 4, 12), ("thread_forks", 4, 12), ("fork_in_report", 4, 12),
             ("nested_fork", 2, 6)]


def cell(prog, lib, scenario, threads, forks, mode, env_add):
    with tempfile.TemporaryDirectory() as d:
        env = {k: v for k, v in os.environ.items() if not k.startswith("SLABDBG")}
        env.update(env_add)
        opts = env.get("SLABDBG_OPTIONS", "")
        env["SLABDBG_OPTIONS"] = (opts + ":" if opts else "") + f"json={d}/r.%p.json:log={d}/log.%p"
        env["LD_PRELOAD"] = lib
        try:
            p = subprocess.run([prog, scenario, str(threads), str(forks)], env=env,
                               capture_output=True, timeout=300)
        except subprocess.TimeoutExpired:
            return [f"{scenario} [{mode}]: timed out (a deadlock)"]
        problems = []
        out = p.stdout.decode(errors="replace")
        if p.returncode != 0:
            problems.append(f"{scenario} [{mode}]: exit {p.returncode}: {out.strip()} "
                            f"{p.stderr.decode(errors='replace')[-400:]}")
        # every process (parent, children, grandchildren) that made a double
        # free wrote a complete JSON report of it
        with_report = 0
        for f in glob.glob(f"{d}/r.*.json"):
            kinds = []
            for line in open(f, errors="replace"):
                try:
                    kinds.append(json.loads(line)["kind"])
                except (ValueError, KeyError):
                    problems.append(f"{scenario} [{mode}]: a broken JSON report in {f}: {line[:200]!r}")
            if "already_free" in kinds or "double_free" in kinds:
                with_report += 1
        expected = forks * (3 if scenario == "nested_fork" else 1)
        if with_report < expected:
            problems.append(f"{scenario} [{mode}]: {with_report} processes reported their "
                            f"double free, expected at least {expected}")
        return problems


def main():
    prog, lib = sys.argv[1], sys.argv[2]
    passed = failed = 0
    for scenario, threads, forks in SCENARIOS:
        for mode, env in MODES.items():
            problems = cell(prog, lib, scenario, threads, forks, mode, env)
            if problems:
                failed += 1
                print("\n".join(problems))
            else:
                passed += 1
                print(f"ok {scenario} [{mode}]")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
