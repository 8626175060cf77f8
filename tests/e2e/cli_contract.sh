#!/usr/bin/env bash
# The command-line contract every program keeps (DESIGN.md, principle 5):
# --help and --version on stdout with exit 0; a bad command line gives one
# line on stderr, nothing on stdout, and exit code 2.
set -u
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

check_program() {
    local name=$1 binary=$2 out err code
    out=$(mktemp) err=$(mktemp)

    "$binary" --help >"$out" 2>"$err"; code=$?
    [[ $code -eq 0 ]] || fail "$name --help exited $code"
    head -n1 "$out" | grep -q "^Usage: $name " || fail "$name --help does not start with 'Usage: $name'"
    grep -q -- "--log-level LEVEL" "$out" || fail "$name --help does not document --log-level"
    [[ ! -s "$err" ]] || fail "$name --help wrote to stderr"

    "$binary" --version >"$out" 2>"$err"; code=$?
    [[ $code -eq 0 ]] || fail "$name --version exited $code"
    [[ "$(cat "$out")" == "$name $HARNESS_VERSION" ]] || fail "$name --version printed '$(cat "$out")'"

    for bad in "--no-such-option" "-x" "--log-level" "--log-level=loud" "--log-format xml" "--help=yes" "stray"; do
        # shellcheck disable=SC2086 # word splitting intended: "--log-format xml" is two arguments
        "$binary" $bad >"$out" 2>"$err"; code=$?
        [[ $code -eq 2 ]] || fail "$name $bad exited $code, expected 2"
        [[ ! -s "$out" ]] || fail "$name $bad wrote to stdout"
        [[ $(wc -l <"$err") -eq 1 ]] || fail "$name $bad wrote $(wc -l <"$err") lines to stderr"
        grep -q "^$name: " "$err" || fail "$name $bad: error line does not name the program"
    done
    rm -f "$out" "$err"
}

check_program dialpad-mock "$DIALPAD_MOCK"
check_program dialpad-record "$DIALPAD_RECORD"
check_program dialpad-replay "$DIALPAD_REPLAY"

# dialpad-mock --replay: a session that cannot be played is refused before
# the port is bound (no ready line), like any other bad command line.
check_mock_refuses() {
    local what=$1 out err code
    shift
    out=$(mktemp) err=$(mktemp)
    "$DIALPAD_MOCK" --port 0 "$@" >"$out" 2>"$err"; code=$?
    [[ $code -eq 2 ]] || fail "dialpad-mock $what exited $code, expected 2"
    [[ ! -s "$out" ]] || fail "dialpad-mock $what printed a ready line"
    [[ $(wc -l <"$err") -eq 1 ]] || fail "dialpad-mock $what wrote $(wc -l <"$err") lines to stderr"
    grep -q "^dialpad-mock: " "$err" || fail "dialpad-mock $what: error line does not name the program"
    rm -f "$out" "$err"
}
check_mock_refuses "--replay of a missing file" --replay /nonexistent/calls.db
check_mock_refuses "--replay of a file that is not an archive" --replay "$0"
check_mock_refuses "--replay-speed without --replay" --replay-speed 2
check_mock_refuses "--replay-speed below 0.001" --replay "$0" --replay-speed 1e-300
check_mock_refuses "--time-scale above 1e6" --clock virtual --time-scale 1e9
check_mock_refuses "--time-scale that is not a number" --clock virtual --time-scale nan
unset DIALPAD_MOCK_ADMIN_TOKEN
check_mock_refuses "--expose-admin without an admin token" --expose-admin

# A secret given on the command line is refused (it would sit in `ps` and
# shell history), with one line saying where it goes, never echoing it.
check_secret_refused() {
    local name=$1 binary=$2 out err code
    shift 2
    out=$(mktemp) err=$(mktemp)
    "$binary" "$@" >"$out" 2>"$err"; code=$?
    [[ $code -eq 2 ]] || fail "$name $*: exited $code, expected 2"
    [[ $(wc -l <"$err") -eq 1 ]] || fail "$name $*: wrote $(wc -l <"$err") lines to stderr"
    grep -q 'DIALPAD_WEBSOCKET_SECRET' "$err" || fail "$name $*: the error does not name DIALPAD_WEBSOCKET_SECRET"
    ! grep -q 'hunter2-on-argv' "$out" "$err" || fail "$name $*: the secret was echoed"
    rm -f "$out" "$err"
}
DIALPAD_API_KEY=k check_secret_refused dialpad-record "$DIALPAD_RECORD" --out /nonexistent/x.db --create --secret hunter2-on-argv
check_secret_refused dialpad-replay "$DIALPAD_REPLAY" serve "$0" --sign-secret hunter2-on-argv
check_secret_refused dialpad-replay "$DIALPAD_REPLAY" redact "$0" -o /nonexistent/y.db --secret hunter2-on-argv
env -u DIALPAD_WEBSOCKET_SECRET "$DIALPAD_REPLAY" serve "$0" --sign >/dev/null 2>"${TMPDIR:-/tmp}/sign.$$"; code=$?
[[ $code -eq 2 ]] && grep -q 'DIALPAD_WEBSOCKET_SECRET' "${TMPDIR:-/tmp}/sign.$$" ||
    fail "dialpad-replay serve --sign without a secret: exit $code, $(cat "${TMPDIR:-/tmp}/sign.$$")"
rm -f "${TMPDIR:-/tmp}/sign.$$"

# Values that would overflow the programs' nanosecond times are refused.
check_refused() {
    local name=$1 binary=$2 out err code
    shift 2
    out=$(mktemp) err=$(mktemp)
    "$binary" "$@" >"$out" 2>"$err"; code=$?
    [[ $code -eq 2 ]] || fail "$name $*: exited $code, expected 2"
    [[ $(wc -l <"$err") -eq 1 ]] || fail "$name $*: wrote $(wc -l <"$err") lines to stderr"
    rm -f "$out" "$err"
}
check_refused dialpad-replay "$DIALPAD_REPLAY" serve "$0" --speed 1e-300
check_refused dialpad-replay "$DIALPAD_REPLAY" serve "$0" --speed inf
check_refused dialpad-record "$DIALPAD_RECORD" --out /nonexistent/x.db --url ws://127.0.0.1:9/x --clock virtual --time-scale 1e9

echo "cli_contract: $failures failure(s)"
[[ $failures -eq 0 ]]
