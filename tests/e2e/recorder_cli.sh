#!/usr/bin/env bash
# dialpad-record as a program against a real dialpad-mock: exit codes (0 done,
# 1 failure, 2 usage), one-line errors that name the cause and never the key,
# recovery from refused upgrades, a short recording with the key read from a
# file (no key or websocket token anywhere in the archive or the log), and
# SIGTERM ending a recording cleanly. The key always travels in the
# environment or a file, never on argv.
#
# Every process it starts is stopped on any exit and the temporary directory
# removed; every wait is bounded and the whole script keeps to a 55 s budget.
set -euo pipefail

for tool in curl sqlite3 timeout mkfifo; do
    command -v "$tool" >/dev/null || { echo "recorder_cli: SKIP ($tool is not installed)"; exit 125; }
done
if [[ ! -x ${DIALPAD_MOCK:-} || ! -x ${DIALPAD_RECORD:-} ]]; then
    echo "recorder_cli: SKIP (DIALPAD_MOCK and DIALPAD_RECORD must name the programs)"
    exit 125
fi

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# record NAME KEY ARGS...: runs dialpad-record in the foreground (bounded) with
# DIALPAD_API_KEY=KEY, or without DIALPAD_API_KEY when KEY is '-'; stdout and
# stderr go to $tmp/NAME.out and $tmp/NAME.err, the exit status to $code.
record() {
    local name=$1 key=$2
    shift 2
    local -a environment=(env -u DIALPAD_API_KEY)
    [[ $key == - ]] || environment+=("DIALPAD_API_KEY=$key")
    budget 15
    code=0
    "${environment[@]}" timeout -k 2 "$secs" "$DIALPAD_RECORD" "$@" >"$tmp/$name.out" 2>"$tmp/$name.err" || code=$?
}

# The error lines dialpad-record prints for people (log lines have a timestamp first).
error_lines() { grep -c '^dialpad-record: ' "$1" || true; }

# --- The mock ----------------------------------------------------------------
start_mock mock --api-key good-key@acme

admin_get() { curl -sS --max-time 5 "$admin$1"; }
admin_send() { curl -sS --max-time 5 -X "$1" -H 'Content-Type: application/json' --data-binary "${3:-}" "$admin$2"; }

# wait_connected PID: waits (bounded) until the mock lists an event connection
# newer than any seen before; sets $conn_websocket to its websocket id. Fails early if
# the recorder PID has ended.
last_conn_id=0
wait_connected() {
    local pid=$1 i listing id best=0
    budget 5
    for ((i = 0; i < secs * 10; i++)); do
        listing=$(admin_get /connections 2>/dev/null || true)
        for id in $(grep -o '"id":[0-9]*' <<<"$listing" | cut -d: -f2 || true); do
            if ((id > best)); then best=$id; fi
        done
        if ((best > last_conn_id)); then
            last_conn_id=$best
            # The connection object holding this id also names its websocket.
            conn_websocket=$(grep -o "{[^{}]*\"id\":${best}[,}][^{}]*}" <<<"$listing" |
                grep -o '"websocket":"[0-9]*"' | cut -d'"' -f4 || true)
            return 0
        fi
        kill -0 "$pid" 2>/dev/null || return 1
        pause
    done
    return 1
}

call_event='{"type":"call","raw":"{\"call_id\":1,\"state\":\"ringing\"}"}'

# --- 1. A wrong key: 401, named on one error line; the key never printed -----
record wrong_key wrong-key --create --subscribe call:all --api-base "$http" --out "$tmp/a.db"
[[ $code -eq 1 ]] || fail "wrong key: exit $code, expected 1"
[[ $(error_lines "$tmp/wrong_key.err") -eq 1 ]] || fail "wrong key: expected one 'dialpad-record: ' error line"
grep -q '^dialpad-record: .*401' "$tmp/wrong_key.err" || fail "wrong key: the error line does not mention 401"
if grep -q -F wrong-key "$tmp/wrong_key.err" "$tmp/wrong_key.out"; then fail "wrong key: the key appears in the output"; fi
# With the log off, the error line is all there is.
record wrong_key_quiet wrong-key --create --subscribe call:all --api-base "$http" --out "$tmp/a.db" --log-level off
[[ $code -eq 1 ]] || fail "wrong key, --log-level off: exit $code, expected 1"
[[ $(wc -l <"$tmp/wrong_key_quiet.err") -eq 1 ]] ||
    fail "wrong key, --log-level off: $(wc -l <"$tmp/wrong_key_quiet.err") lines on stderr, expected 1"
grep -q 401 "$tmp/wrong_key_quiet.err" || fail "wrong key, --log-level off: stderr does not mention 401"
if grep -q -F wrong-key "$tmp/wrong_key_quiet.err"; then fail "wrong key, --log-level off: the key appears on stderr"; fi

# --- 2. No key at all: a usage error naming DIALPAD_API_KEY -----------------
record no_key - --create --subscribe call:all --api-base "$http" --out "$tmp/a.db"
[[ $code -eq 2 ]] || fail "no key: exit $code, expected 2"
grep -q DIALPAD_API_KEY "$tmp/no_key.err" || fail "no key: the message does not mention DIALPAD_API_KEY"
[[ $(wc -l <"$tmp/no_key.err") -eq 1 ]] || fail "no key: $(wc -l <"$tmp/no_key.err") lines on stderr, expected 1"

# --- 3. An unknown websocket: 404 ---------------------------------------------
record unknown_websocket good-key --websocket-id 999999 --api-base "$http" --out "$tmp/a.db"
[[ $code -eq 1 ]] || fail "--websocket-id 999999: exit $code, expected 1"
grep -q '^dialpad-record: .*404' "$tmp/unknown_websocket.err" ||
    fail "--websocket-id 999999: no error line mentions 404"

# --- 4. Bad command lines: usage errors (2), one line, nothing on stdout -----
check_usage() {
    local label=$1
    shift
    record usage good-key "$@"
    [[ $code -eq 2 ]] || fail "$label: exit $code, expected 2"
    [[ $(wc -l <"$tmp/usage.err") -eq 1 ]] || fail "$label: $(wc -l <"$tmp/usage.err") lines on stderr, expected 1"
    [[ ! -s "$tmp/usage.out" ]] || fail "$label: wrote to stdout"
}
check_usage "no --out" --create --subscribe call:all --api-base "$http"
check_usage "--create with --url" --create --url "ws://127.0.0.1:1/events/x" --api-base "$http" --out "$tmp/a.db"
check_usage "--subscribe fax" --create --subscribe fax --api-base "$http" --out "$tmp/a.db"
check_usage "--duration banana" --create --subscribe call:all --duration banana --api-base "$http" --out "$tmp/a.db"

# --- 5. A host that does not resolve: retried, then one error line naming it --
record dns good-key --create --subscribe call:all --api-base http://no-such-host.invalid --out "$tmp/a.db"
[[ $code -eq 1 ]] || fail "unresolvable host: exit $code, expected 1"
[[ $(error_lines "$tmp/dns.err") -eq 1 ]] || fail "unresolvable host: expected one 'dialpad-record: ' error line"
grep -q '^dialpad-record: .*no-such-host\.invalid' "$tmp/dns.err" ||
    fail "unresolvable host: the error line does not name no-such-host.invalid"

# --- 6. 5xx: the mock refuses the first two upgrades with 503 ---------------
# (The mock has no fault for garbled or 5xx REST answers; upgrades it can refuse.)
admin_send POST /faults '{"reject_upgrades":2,"reject_status":503}' >/dev/null
DIALPAD_API_KEY=good-key "$DIALPAD_RECORD" --create --subscribe call:all --max-events 1 --api-base "$http" \
    --out "$tmp/retry.db" >"$tmp/retry.out" 2>"$tmp/retry.err" &
pids+=($!)
retry_pid=$!
if wait_connected "$retry_pid"; then
    admin_send POST /events "$call_event" >/dev/null
    wait_exit "$retry_pid" 10
    [[ $code -eq 0 ]] || fail "after refused upgrades: exit $code, expected 0"
    [[ $(sqlite3 "$tmp/retry.db" "select count(*) from frames where kind='event'") == 1 ]] ||
        fail "after refused upgrades: the event was not archived"
    [[ $(sqlite3 "$tmp/retry.db" "select count(*) from gaps where reason like '%503%' and end_offset_ns is not null") == 1 ]] ||
        fail "after refused upgrades: no closed gap whose reason names 503"
else
    fail "after refused upgrades: the recorder never connected"
    stop_process "$retry_pid"
fi
admin_send DELETE /faults >/dev/null

# --- 7. A short recording, the key from a file --------------------------------
printf 'good-key\n' >"$tmp/key"
env -u DIALPAD_API_KEY "$DIALPAD_RECORD" --create --subscribe call:all --max-events 3 --duration 60s --api-base "$http" \
    --api-key-file "$tmp/key" --out "$tmp/ok.db" >"$tmp/ok.out" 2>"$tmp/ok.err" &
pids+=($!)
ok_pid=$!
token_header=
if wait_connected "$ok_pid"; then
    for _ in 1 2 3; do admin_send POST /events "$call_event" >/dev/null; done
    # Every token the mock issues starts with the same JWT header segment: a
    # fresh URL for the same websocket gives it (the key goes in a header file).
    printf 'Authorization: Bearer good-key\n' >"$tmp/auth.hdr"
    url=$(curl -sS --max-time 5 -H @"$tmp/auth.hdr" "$http/api/v2/websockets/${conn_websocket:-0}" |
        grep -o '"websocket_url":"[^"]*"' | cut -d'"' -f4 || true)
    token=${url##*/events/}
    if [[ $url == */events/* && -n $token ]]; then token_header=${token%%.*}; fi
    [[ -n $token_header ]] || fail "recording: could not read a websocket token from the mock"
    wait_exit "$ok_pid" 10
    [[ $code -eq 0 ]] || fail "recording: exit $code, expected 0"
    for file in "$tmp/ok.db" "$tmp/ok.db-wal" "$tmp/ok.db-journal" "$tmp/ok.err" "$tmp/ok.out"; do
        [[ -e $file ]] || continue
        for needle in good-key /events/ey ${token_header:+"$token_header"}; do
            [[ $(grep -a -c -F -- "$needle" "$file" || true) -eq 0 ]] ||
                fail "recording: '$needle' appears in $(basename "$file")"
        done
    done
    events=$(sqlite3 "$tmp/ok.db" "select count(*) from frames where kind='event'")
    [[ $events == 3 ]] || fail "recording: $events event frames archived, expected 3"
else
    fail "recording: the recorder never connected; its stderr:"
    cat "$tmp/ok.err"
    stop_process "$ok_pid"
fi

# --- 8. SIGTERM ends a recording cleanly ---------------------------------------
DIALPAD_API_KEY=good-key "$DIALPAD_RECORD" --create --subscribe call:all --api-base "$http" \
    --out "$tmp/term.db" >"$tmp/term.out" 2>"$tmp/term.err" &
pids+=($!)
term_pid=$!
if wait_connected "$term_pid"; then
    kill -TERM "$term_pid"
    wait_exit "$term_pid" 10
    if [[ $code -eq 124 ]]; then
        fail "SIGTERM: still running 10 s later"
        stop_process "$term_pid"
    else
        [[ $code -eq 0 ]] || fail "SIGTERM: exit $code, expected 0"
        ended=$(sqlite3 "$tmp/term.db" "select count(*) from sessions where ended_wall_ns >= started_wall_ns")
        [[ $ended == 1 ]] || fail "SIGTERM: the session has no end time"
        stopped=$(sqlite3 "$tmp/term.db" "select count(*) from connections where end_reason = 'stop'")
        [[ $stopped == 1 ]] || fail "SIGTERM: the connection is not archived as ended by 'stop'"
    fi
else
    fail "SIGTERM: the recorder never connected; its stderr:"
    cat "$tmp/term.err"
    stop_process "$term_pid"
fi

if ((failures > 0)); then
    echo "--- dialpad-mock stderr"
    cat "$tmp/mock.err"
fi
echo "recorder_cli: $failures failure(s)"
[[ $failures -eq 0 ]]
