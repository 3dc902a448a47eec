#!/bin/sh
# The slabdbg command: --help, --version, exit status pass-through of
# "slabdbg run --", arguments and standard streams passed unchanged,
# LD_PRELOAD set for the child, SLABDBG_STATS=1 printing to stderr.
. "$(dirname "$0")/lib.sh"
: "${SLABDBG_VERSION_EXPECTED:?}"

"$SLABDBG_CLI" --help >"$WORK/help" 2>&1 || fail "slabdbg --help exited with $?"
grep -q run "$WORK/help" || fail "slabdbg --help does not mention the run command"

"$SLABDBG_CLI" --version >"$WORK/version" 2>&1 || fail "slabdbg --version exited with $?"
grep -qF "$SLABDBG_VERSION_EXPECTED" "$WORK/version" ||
    fail "slabdbg --version printed '$(cat "$WORK/version")', expected $SLABDBG_VERSION_EXPECTED"

for code in 0 1 7 42 255; do
    set +e
    "$SLABDBG_CLI" run -- sh -c "exit $code"
    st=$?
    set -e
    [ "$st" -eq "$code" ] || fail "slabdbg run -- sh -c 'exit $code' returned $st"
done
echo "exit statuses passed through"

out=$("$SLABDBG_CLI" run -- printf '%s|' 'a b' '' 'c*' '$HOME')
[ "$out" = 'a b||c*|$HOME|' ] || fail "arguments not passed unchanged: '$out'"

out=$(echo "hello from stdin" | "$SLABDBG_CLI" run -- cat)
[ "$out" = "hello from stdin" ] || fail "stdin/stdout not passed through: '$out'"

set +e
"$SLABDBG_CLI" run -- sh -c 'echo to-stderr >&2' 2>"$WORK/err" >/dev/null
set -e
grep -qx to-stderr "$WORK/err" || fail "stderr not passed through"

out=$("$SLABDBG_CLI" run -- sh -c 'echo "$LD_PRELOAD"')
case "$out" in
*slabdbg*) ;;
*) fail "LD_PRELOAD in the child is '$out'" ;;
esac

set +e
"$SLABDBG_CLI" run -- "$WORK/no-such-program" 2>/dev/null
st=$?
set -e
[ "$st" -ne 0 ] || fail "running a missing program returned 0"

# the child really uses the library (exec_chain 0: one process that
# allocates and exits through exit(); some shells leave with _exit)
: "${EXEC_CHAIN:?EXEC_CHAIN must name the exec_chain program}"
set +e
SLABDBG_STATS=1 "$SLABDBG_CLI" run -- "$EXEC_CHAIN" 0 >"$WORK/chain-out" 2>"$WORK/stats-stderr"
st=$?
set -e
[ "$st" -eq 0 ] || fail "slabdbg run -- exec_chain 0 exited with $st"
grep -q 'lib=1' "$WORK/chain-out" || fail "program run by slabdbg run does not use the library"
grep -q '^slabdbg ' "$WORK/stats-stderr" ||
    fail "SLABDBG_STATS=1 printed no statistics: $(head -c 500 "$WORK/stats-stderr")"
run_cli "$EXEC_CHAIN" 0 >/dev/null
check_stats 1
echo "cli ok"
