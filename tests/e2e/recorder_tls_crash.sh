#!/usr/bin/env bash
# dialpad-record over TLS and across a crash, against real dialpad-mock
# processes.
#
# 1. TLS: a throwaway CA and a certificate for 127.0.0.1/localhost; the mock
#    serves https and wss with it. With --ca-file the recorder records over
#    wss (stored URL wss://…/events/<token>); without it, it fails (exit 1)
#    with one error line naming the certificate problem and the host; with
#    --insecure it records and warns about --insecure.
# 2. Crash safety: a recording with --durability-window 50ms is killed with
#    SIGKILL in the middle of a burst of 3000 distinct events. The archive
#    passes SQLite's integrity check, its event frames are an in-order prefix
#    of the burst (no gap, no copy), and a new recording into the same file
#    works and adds a second session. Prints how many frames survived (N).
#
# Every process it starts is stopped on any exit and the temporary directory
# removed; every wait is bounded and the whole script keeps to a 55 s budget.
# The key always travels in the environment, never on argv.
set -euo pipefail

for tool in curl sqlite3 timeout mkfifo openssl; do
    command -v "$tool" >/dev/null || { echo "recorder_tls_crash: SKIP ($tool is not installed)"; exit 125; }
done
if [[ ! -x ${DIALPAD_MOCK:-} || ! -x ${DIALPAD_RECORD:-} ]]; then
    echo "recorder_tls_crash: SKIP (DIALPAD_MOCK and DIALPAD_RECORD must name the programs)"
    exit 125
fi

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# record NAME ARGS...: runs dialpad-record in the foreground (bounded) with
# DIALPAD_API_KEY=good-key; stdout and stderr go to $tmp/NAME.out and
# $tmp/NAME.err, the exit status to $code, the time it took (ms) to $took_ms.
record() {
    local name=$1 started
    shift
    budget 15
    code=0
    started=$(date +%s%N)
    DIALPAD_API_KEY=good-key timeout -k 2 "$secs" "$DIALPAD_RECORD" "$@" \
        >"$tmp/$name.out" 2>"$tmp/$name.err" || code=$?
    took_ms=$((($(date +%s%N) - started) / 1000000))
}

# The error lines dialpad-record prints for people (log lines have a timestamp first).
error_lines() { grep -c '^dialpad-record: ' "$1" || true; }

# start_keyed_mock NAME ARGS...: a dialpad-mock that accepts the test's key.
start_keyed_mock() {
    local name=$1
    shift
    start_mock "$name" --api-key good-key@acme "$@"
}

# curl options for the mock in use (the CA for the TLS one).
curl_opts=()
admin_get() { curl -sS --max-time 5 "${curl_opts[@]}" "$admin$1"; }
# admin_post PATH FILE: POSTs a JSON body from a file.
admin_post() {
    curl -sS --max-time 10 "${curl_opts[@]}" -X POST -H 'Content-Type: application/json' \
        --data-binary @"$2" "$admin$1"
}

# wait_connected PID: waits (bounded) until the current mock lists an event
# connection newer than any seen on it before. Fails early if the recorder
# PID has ended.
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
            return 0
        fi
        kill -0 "$pid" 2>/dev/null || return 1
        pause
    done
    return 1
}

# call_body FILE FIRST LAST: a batch of call events FIRST..LAST for
# POST /__admin/events; each event is ~300 bytes with its call_id in it.
padding=$(printf '%0240d' 0 | tr 0 x)
call_body() {
    local file=$1 first=$2 last=$3 i sep=''
    {
        printf '{"events":['
        for ((i = first; i <= last; i++)); do
            printf '%s{"type":"call","raw":"{\\"call_id\\":%d,\\"state\\":\\"ringing\\",\\"direction\\":\\"inbound\\",\\"pad\\":\\"%s\\"}"}' \
                "$sep" "$i" "$padding"
            sep=,
        done
        printf ']}'
    } >"$file"
}

event_frames() { sqlite3 "$1" "select count(*) from frames where kind='event'"; }

# --- 1. TLS ------------------------------------------------------------------
# A throwaway CA, and a certificate it signs for 127.0.0.1 and localhost.
ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
if ! {
    openssl req -x509 "${ec[@]}" -keyout "$tmp/ca.key" -out "$tmp/ca.pem" -days 2 \
        -subj /CN=dialpad-harness-test-ca \
        -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign &&
        openssl req "${ec[@]}" -keyout "$tmp/server.key" -out "$tmp/server.csr" -subj /CN=127.0.0.1 &&
        printf '%s\n' basicConstraints=CA:FALSE keyUsage=critical,digitalSignature extendedKeyUsage=serverAuth \
            subjectAltName=IP:127.0.0.1,DNS:localhost >"$tmp/server.ext" &&
        openssl x509 -req -in "$tmp/server.csr" -CA "$tmp/ca.pem" -CAkey "$tmp/ca.key" -CAcreateserial \
            -days 2 -extfile "$tmp/server.ext" -out "$tmp/server.pem"
} >"$tmp/openssl.log" 2>&1; then
    echo "FAIL: openssl could not make the test certificates:"
    cat "$tmp/openssl.log"
    exit 1
fi

start_keyed_mock tls_mock --tls-cert "$tmp/server.pem" --tls-key "$tmp/server.key"
tls_mock_pid=$mock_pid
[[ $http == https://127.0.0.1:* && $admin == https://* ]] ||
    fail "TLS mock: ready line gives http '$http', admin '$admin', expected https URLs"
curl_opts=(--cacert "$tmp/ca.pem")
api_base="https://127.0.0.1:${http##*:}"
call_event="$tmp/call_event.json"

# The mock's TLS floor is 1.2: a client offering only TLS 1.1 (the client's own
# security level lowered so it may try) is refused; TLS 1.2 and 1.3 are served.
tls_handshake() {
    timeout -k 2 10 openssl s_client -connect "127.0.0.1:${http##*:}" -CAfile "$tmp/ca.pem" "$@" </dev/null \
        >"$tmp/s_client.out" 2>&1
}
if tls_handshake -tls1_1 -cipher 'DEFAULT@SECLEVEL=0'; then
    fail "TLS mock: a TLS 1.1 handshake succeeded"
elif ! grep -q 'alert protocol version' "$tmp/s_client.out"; then
    fail "TLS mock: the TLS 1.1 handshake failed, but not with the server's protocol-version alert: $(tail -3 "$tmp/s_client.out")"
fi
for version in -tls1_2 -tls1_3; do
    tls_handshake "$version" -verify_return_error || fail "TLS mock: a $version handshake failed: $(tail -3 "$tmp/s_client.out")"
done
printf '%s' '{"type":"call","raw":"{\"call_id\":1,\"state\":\"ringing\"}"}' >"$call_event"

# a. With --ca-file: records over wss.
DIALPAD_API_KEY=good-key "$DIALPAD_RECORD" --api-base "$api_base" --create --subscribe call:all \
    --ca-file "$tmp/ca.pem" --max-events 2 --duration 60s --out "$tmp/ok.db" >"$tmp/ok.out" 2>"$tmp/ok.err" &
pids+=($!)
ok_pid=$!
if wait_connected "$ok_pid"; then
    for _ in 1 2; do
        admin_post /events "$call_event" >/dev/null || fail "--ca-file: could not inject an event over https"
    done
    wait_exit "$ok_pid" 10
    if [[ $code -eq 124 ]]; then
        fail "--ca-file: still running 10 s later"
        stop_process "$ok_pid"
    else
        [[ $code -eq 0 ]] || fail "--ca-file: exit $code, expected 0; stderr: $(cat "$tmp/ok.err")"
        events=$(event_frames "$tmp/ok.db")
        [[ $events == 2 ]] || fail "--ca-file: $events event frames archived, expected 2"
        url=$(sqlite3 "$tmp/ok.db" "select url from connections order by id limit 1")
        [[ $url == wss://* && $url == */events/'<token>' ]] ||
            fail "--ca-file: stored connection url is '$url', expected wss://…/events/<token>"
    fi
else
    fail "--ca-file: the recorder never connected; its stderr:"
    cat "$tmp/ok.err"
    stop_process "$ok_pid"
fi

# b. Without --ca-file: the system store does not know the CA.
record no_ca --api-base "$api_base" --create --subscribe call:all --duration 3s --out "$tmp/no_ca.db"
[[ $code -eq 1 ]] || fail "no --ca-file: exit $code, expected 1"
((took_ms <= 11000)) || fail "no --ca-file: took ${took_ms} ms to fail, expected about 10 s at most"
[[ $(error_lines "$tmp/no_ca.err") -eq 1 ]] ||
    fail "no --ca-file: $(error_lines "$tmp/no_ca.err") 'dialpad-record: ' error lines, expected 1"
grep -i -q -E '^dialpad-record: .*(certificate|tls|ssl)' "$tmp/no_ca.err" ||
    fail "no --ca-file: the error line does not name the TLS/certificate problem: $(grep '^dialpad-record: ' "$tmp/no_ca.err" || true)"
grep -q -F '127.0.0.1' <(grep '^dialpad-record: ' "$tmp/no_ca.err" || true) ||
    fail "no --ca-file: the error line does not name the host 127.0.0.1"

# c. --insecure instead: records, with a warning.
record insecure --api-base "$api_base" --create --subscribe call:all --insecure --duration 1s --out "$tmp/insecure.db"
[[ $code -eq 0 ]] || fail "--insecure: exit $code, expected 0; stderr: $(cat "$tmp/insecure.err")"
grep -i -q -E 'warn.*--insecure' "$tmp/insecure.err" || fail "--insecure: no warning about --insecure on stderr"

stop_process "$tls_mock_pid"

# --- 2. Crash safety -------------------------------------------------------------
start_keyed_mock plain_mock
curl_opts=()
last_conn_id=0

# The burst: 3000 distinct call events (call_id 1..3000) in batches of 500.
batches=6
for ((b = 0; b < batches; b++)); do call_body "$tmp/batch$b.json" $((b * 500 + 1)) $((b * 500 + 500)); done

db="$tmp/crash.db"
DIALPAD_API_KEY=good-key "$DIALPAD_RECORD" --api-base "$http" --create --subscribe call:all \
    --durability-window 50ms --out "$db" >"$tmp/crash.out" 2>"$tmp/crash.err" &
pids+=($!)
crash_pid=$!
if wait_connected "$crash_pid"; then
    # The injector posts the batches one after another and reports each.
    mkfifo "$tmp/posted.fifo"
    exec {posted_fd}<>"$tmp/posted.fifo"
    fds+=("$posted_fd")
    (
        for ((b = 0; b < batches; b++)); do
            curl -sS --max-time 10 -X POST -H 'Content-Type: application/json' \
                --data-binary @"$tmp/batch$b.json" "$admin/events" >"$tmp/posted$b.json" 2>&1 || true
            echo "$b" >"$tmp/posted.fifo"
        done
    ) &
    pids+=($!)
    injector_pid=$!
    # SIGKILL once the second batch's POST returned and the archive shows a
    # committed event frame (so the kill finds some frames committed and
    # others on their way, while the injector goes on posting).
    posted=''
    while read -r -t 10 -u "$posted_fd" posted; do [[ $posted == 1 ]] && break; done || true
    [[ $posted == 1 ]] || fail "crash: the second batch was not posted within 10 s"
    committed=0
    for ((i = 0; i < 500; i++)); do
        committed=$(event_frames "$db" 2>/dev/null || echo 0)
        ((committed > 0)) && break
        read -r -t 0.01 -u "$idle_fd" _ || true
    done
    ((committed > 0)) || fail "crash: no event frame committed in the archive within 5 s (--durability-window 50ms)"
    while read -r -t 0.001 -u "$posted_fd" b; do posted=$b; done || true
    if kill -KILL "$crash_pid" 2>/dev/null; then
        wait_exit "$crash_pid" 5
        [[ $code -eq 137 ]] || fail "crash: the recorder ended with $code, expected 137 (SIGKILL)"
    else
        fail "crash: the recorder had already ended before the kill; its stderr:"
        cat "$tmp/crash.err"
        wait_exit "$crash_pid" 5
    fi
    wait_exit "$injector_pid" 20
    [[ $code -ne 124 ]] || { fail "crash: the injector still runs 20 s later"; stop_process "$injector_pid"; }
    for b in 0 1; do
        answer=$(cat "$tmp/posted$b.json")
        [[ $answer == *'"events":500'* && $answer == *'"deliveries":500'* ]] ||
            fail "crash: batch $((b + 1)) was not delivered to the recorder: $answer"
    done

    # Look at a copy of the archive as the crash left it (with its WAL or
    # journal), so the recorder below opens the crashed files themselves.
    mkdir "$tmp/inspect"
    cp "$db" "$tmp/inspect/crash.db"
    for suffix in -wal -journal; do
        [[ ! -e $db$suffix ]] || cp "$db$suffix" "$tmp/inspect/crash.db$suffix"
    done
    copy="$tmp/inspect/crash.db"
    integrity=$(sqlite3 "$copy" "pragma integrity_check" 2>&1 || true)
    [[ $integrity == ok ]] || fail "crash: integrity_check says '$integrity'"
    sqlite3 "$copy" "select json_extract(text, '\$.call_id') from frames where kind='event' order by id" \
        >"$tmp/stored_ids" 2>&1 || fail "crash: could not read the stored frames: $(cat "$tmp/stored_ids")"
    n=$(wc -l <"$tmp/stored_ids")
    seq 1 "$n" >"$tmp/expected_ids"
    if ! cmp -s "$tmp/stored_ids" "$tmp/expected_ids"; then
        fail "crash: the $n stored event frames are not call ids 1..$n in order; first difference:"
        diff "$tmp/expected_ids" "$tmp/stored_ids" | head -5 || true
    fi
    ((n <= 3000)) || fail "crash: $n event frames stored, more than were injected"
    ((n < 3000)) || echo "recorder_tls_crash: note: the whole burst was archived before the kill"
    ((n >= committed)) || fail "crash: $committed event frames were committed before the kill, only $n after it"
    echo "recorder_tls_crash: N=$n event frames survived the SIGKILL" \
        "(killed with $committed seen committed, after batch $((posted + 1)) of $batches was posted)"

    # The crashed archive can be recorded into again.
    record again --api-base "$http" --create --subscribe call:all --duration 1s --out "$db"
    [[ $code -eq 0 ]] || fail "after the crash: a new recording exits $code, expected 0; stderr: $(cat "$tmp/again.err")"
    sessions=$(sqlite3 "$db" "select count(*) from sessions" 2>&1 || true)
    [[ $sessions == 2 ]] || fail "after the crash: $sessions sessions in the archive, expected 2"
    integrity=$(sqlite3 "$db" "pragma integrity_check" 2>&1 || true)
    [[ $integrity == ok ]] || fail "after the crash and a new recording: integrity_check says '$integrity'"
    first_events=$(sqlite3 "$db" "select count(*) from frames where kind='event' and session_id = (select min(id) from sessions)" 2>&1 || true)
    [[ $first_events == "$n" ]] || fail "after the crash: the first session has $first_events event frames, expected $n"
else
    fail "crash: the recorder never connected; its stderr:"
    cat "$tmp/crash.err"
    stop_process "$crash_pid"
fi

if ((failures > 0)); then
    for name in tls_mock plain_mock; do
        [[ -e $tmp/$name.err ]] || continue
        echo "--- dialpad-mock ($name) stderr"
        tail -n 30 "$tmp/$name.err"
    done
fi
echo "recorder_tls_crash: $failures failure(s)"
[[ $failures -eq 0 ]]
