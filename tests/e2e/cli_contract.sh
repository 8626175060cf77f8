#!/usr/bin/env bash
# The command-line contract every program keeps (DESIGN.md, principle 5):
# --help and --version on stdout with exit 0; a bad command line gives one
# line on stderr, nothing on stdout, and exit code 2.
set -u
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# A command line refused as the contract says: exit 2, nothing on stdout,
# one line on stderr naming the program (kept in $refusal for more checks).
check_refused() {
    local name=$1 binary=$2 out err code
    shift 2
    out=$(mktemp) err=$(mktemp)
    "$binary" "$@" >"$out" 2>"$err"; code=$?
    [[ $code -eq 2 ]] || fail "$name $*: exited $code, expected 2"
    [[ ! -s "$out" ]] || fail "$name $*: wrote to stdout"
    [[ $(wc -l <"$err") -eq 1 ]] || fail "$name $*: wrote $(wc -l <"$err") lines to stderr"
    grep -q "^$name: " "$err" || fail "$name $*: the error line does not name the program"
    refusal=$(cat "$err")
    rm -f "$out" "$err"
}

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
        check_refused "$name" "$binary" $bad
    done
    rm -f "$out" "$err"
}

check_program dialpad-mock "$DIALPAD_MOCK"
check_program dialpad-record "$DIALPAD_RECORD"
check_program dialpad-replay "$DIALPAD_REPLAY"

# dialpad-mock --replay: a session that cannot be played is refused before
# the port is bound (no ready line), like any other bad command line.
check_mock_refuses() {
    shift  # what the case is, for the reader
    check_refused dialpad-mock "$DIALPAD_MOCK" --port 0 "$@"
}
check_mock_refuses "--replay of a missing file" --replay /nonexistent/calls.db
check_mock_refuses "--replay of a file that is not an archive" --replay "$0"
check_mock_refuses "--replay-speed without --replay" --replay-speed 2
check_mock_refuses "--replay-speed below 0.001" --replay "$0" --replay-speed 1e-300
check_mock_refuses "--time-scale above 1e6" --clock virtual --time-scale 1e9
check_mock_refuses "--time-scale that is not a number" --clock virtual --time-scale nan
unset DIALPAD_MOCK_ADMIN_TOKEN
check_mock_refuses "--expose-admin without an admin token" --expose-admin
check_mock_refuses "--api-keys-file that cannot be read" --api-keys-file /nonexistent/keys
keys_file=$(mktemp)
echo "# no key here" >"$keys_file"
check_mock_refuses "--api-keys-file with no key" --api-keys-file "$keys_file"
# A bad spec is named by where it came from; the text around it is never echoed.
echo "hunter2-in-file@" >"$keys_file"
check_mock_refuses "--api-keys-file with a key but no company" --api-keys-file "$keys_file"
! grep -q 'hunter2' <<<"$refusal" || fail "dialpad-mock --api-keys-file: the key was echoed"
rm -f "$keys_file"
DIALPAD_MOCK_API_KEYS='ok@acme, hunter2-in-env@' check_mock_refuses "DIALPAD_MOCK_API_KEYS with a key but no company"
grep -q 'DIALPAD_MOCK_API_KEYS' <<<"$refusal" || fail "dialpad-mock: a bad DIALPAD_MOCK_API_KEYS is not named"
! grep -q 'hunter2' <<<"$refusal" || fail "dialpad-mock DIALPAD_MOCK_API_KEYS: the key was echoed"

# A secret given on the command line is refused (it would sit in `ps` and
# shell history), with one line saying where it goes, never echoing it.
check_secret_refused() {
    local name=$1
    check_refused "$@"
    shift 2
    grep -q 'DIALPAD_WEBSOCKET_SECRET' <<<"$refusal" || fail "$name $*: the error does not name DIALPAD_WEBSOCKET_SECRET"
    ! grep -q 'hunter2-on-argv' <<<"$refusal" || fail "$name $*: the secret was echoed"
}
DIALPAD_API_KEY=k check_secret_refused dialpad-record "$DIALPAD_RECORD" --out /nonexistent/x.db --create --secret hunter2-on-argv
check_secret_refused dialpad-replay "$DIALPAD_REPLAY" serve "$0" --sign-secret hunter2-on-argv
check_secret_refused dialpad-replay "$DIALPAD_REPLAY" redact "$0" -o /nonexistent/y.db --secret hunter2-on-argv
# --sign with no secret anywhere names where it goes.
(
    failures=0
    unset DIALPAD_WEBSOCKET_SECRET
    check_secret_refused dialpad-replay "$DIALPAD_REPLAY" serve "$0" --sign
    exit "$failures"
) || failures=$((failures + $?))

# Values that would overflow the programs' nanosecond times are refused.
check_refused dialpad-replay "$DIALPAD_REPLAY" serve "$0" --speed 1e-300
check_refused dialpad-replay "$DIALPAD_REPLAY" serve "$0" --speed inf
check_refused dialpad-record "$DIALPAD_RECORD" --out /nonexistent/x.db --url ws://127.0.0.1:9/x --clock virtual --time-scale 1e9

echo "cli_contract: $failures failure(s)"
[[ $failures -eq 0 ]]
