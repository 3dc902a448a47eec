"""The runner of the Python test scripts whose cases are ctest entries.

    from cases import case, check, Failure, run_cases

    @case
    def something(t):          # t: the script's own context object
        check(cond, "what went wrong")

    sys.exit(run_cases("prefix", make_context, ["cli", "lib"]))

run_cases parses --OPTION for each name given (into the context's args),
--list, and the case name; prints "ok prefix.case" or "FAIL prefix.case:
message" and returns the exit status.  The context may have a cleanup().
"""
import argparse
import sys

CASES = {}


class Failure(Exception):
    pass


def case(f):
    CASES[f.__name__] = f
    return f


def check(cond, msg):
    if not cond:
        raise Failure(msg)


def run_cases(prefix, make_context, options):
    ap = argparse.ArgumentParser()
    for opt in options:
        ap.add_argument("--" + opt)
    ap.add_argument("--list", action="store_true")
    ap.add_argument("case", nargs="?")
    args = ap.parse_args()
    if args.list:
        print("\n".join(CASES))
        return 0
    if args.case not in CASES:
        print("unknown case %r; cases: %s" % (args.case, " ".join(CASES)), file=sys.stderr)
        return 2
    t = make_context(args)
    try:
        CASES[args.case](t)
    except Failure as e:
        print("FAIL %s.%s: %s" % (prefix, args.case, e), file=sys.stderr)
        return 1
    finally:
        if hasattr(t, "cleanup"):
            t.cleanup()
    print("ok %s.%s" % (prefix, args.case))
    return 0
