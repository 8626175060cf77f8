#!/usr/bin/env bash
# No secret leaks anywhere the three programs write: an API key, a websocket
# signing secret, an admin token, each unique to this run, and the websocket
# tokens the mock mints (they grant the stream) are searched for in every log
# (at trace level), the archive's bytes (database and WAL), its JSON Lines
# export, the replay report, and the one-line errors of failing runs. The
# secrets travel in environment variables only. The recording crosses an
# hourly cut, so the refresh path (a fresh tokened URL) is covered too.
#
# Every process it starts is stopped on any exit and the temporary directory
# removed; every wait is bounded and the whole script keeps to a 55 s budget.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
for tool in curl sqlite3 timeout mkfifo head base64; do
    command -v "$tool" >/dev/null || { echo "secret_scan: SKIP ($tool is not installed)"; exit 125; }
done
if [[ ! -x ${DIALPAD_MOCK:-} || ! -x ${DIALPAD_RECORD:-} || ! -x ${DIALPAD_REPLAY:-} ]]; then
    echo "secret_scan: SKIP (DIALPAD_MOCK, DIALPAD_RECORD and DIALPAD_REPLAY must name the programs)"
    exit 125
fi
if ! command -v node >/dev/null || [[ ! -d $here/node/node_modules/ws ]]; then
    echo "FAIL: node or tests/e2e/node/node_modules is missing: run 'bash scripts/setup'"
    exit 1
fi

source "$here/lib.sh"

random_text() { head -c 18 /dev/urandom | base64 | tr '+/' '-_'; }
api_key=key-$(random_text)
secret=secret-$(random_text)
admin_token=admin-$(random_text)
# Every websocket token the mock mints starts with this header (ES256, Dialpad's typ).
token_header=eyJhbGciOiJFUzI1NiIsInR5cCI6InZuZC5kaWFscGFkLndlYnNvY2tldCtqd3QifQ

# --- Mock (an hour is 6 s) and recorder ----------------------------------------
# The key the mock accepts comes from its environment, as a key used
# anywhere else should: the ready line must not print it (scanned below).
start_with_ready_line mock env DIALPAD_MOCK_ADMIN_TOKEN="$admin_token" DIALPAD_MOCK_API_KEYS="$api_key@acme" \
    "$DIALPAD_MOCK" --port 0 --clock virtual --time-scale 600 --log-level trace
mock_pid=$started_pid
echo "$ready" >"$tmp/mock-ready.out"
admin=$(field admin "$ready")
http=$(field http "$ready")
admin_call() {  # METHOD PATH [BODY]
    curl -sS --fail-with-body --max-time 5 -X "$1" -H "Authorization: Bearer $admin_token" \
        -H 'Content-Type: application/json' ${3:+--data-binary "$3"} "$admin$2"
}

DIALPAD_API_KEY=$api_key DIALPAD_WEBSOCKET_SECRET=$secret "$DIALPAD_RECORD" --api-base "$http" --create \
    --subscribe call:all --clock virtual --time-scale 600 --max-events 20 --duration 3h --log-level trace \
    --out "$tmp/scan.db" --session-name scan >"$tmp/record.out" 2>"$tmp/record.err" &
recorder_pid=$!
pids+=("$recorder_pid")

# inject N: N call events, each naming its number.
injected=0
inject() {
    local events='' i
    for ((i = 0; i < $1; i++)); do
        injected=$((injected + 1))
        events+="${events:+,}{\"type\":\"call\",\"payload\":{\"call_id\":$injected,\"state\":\"ringing\"}}"
    done
    admin_call POST /events "{\"events\":[$events]}" >/dev/null || fail "could not inject events"
}
# mock_minutes: the mock's clock, in minutes since it started.
started_ms=$(field now_ms "$(admin_call GET /clock)")
mock_minutes() { echo $((($(field now_ms "$(admin_call GET /clock)") - started_ms) / 60000)); }

budget 10
connected=
for ((i = 0; i < secs * 10; i++)); do
    if [[ $(admin_call GET /connections) == *'"id"'* ]]; then connected=yes && break; fi
    pause
done
[[ -n $connected ]] || fail "dialpad-record did not connect within $secs s: $(tail -3 "$tmp/record.err")"
inject 10
until (($(mock_minutes) >= 64)); do pause; done  # past the hourly cut: the recorder has refreshed
inject 10
wait_exit "$recorder_pid" 20
[[ $code -eq 0 ]] || fail "dialpad-record exited $code: $(tail -3 "$tmp/record.err")"
connections=$(sqlite3 "$tmp/scan.db" "select count(*) from connections")
((connections >= 2)) || fail "the recording has $connections connection(s); it should have crossed the cut"
recorded=$(sqlite3 "$tmp/scan.db" "select count(*) from frames where kind = 'event'")
[[ $recorded == "$injected" ]] || fail "$recorded events archived of $injected injected"

# --- Export, replay re-signed with the secret, failing runs ---------------------
"$DIALPAD_REPLAY" export "$tmp/scan.db" -o "$tmp/scan.jsonl" --log-level trace 2>"$tmp/export.err"
start_with_ready_line replay env DIALPAD_WEBSOCKET_SECRET="$secret" "$DIALPAD_REPLAY" serve "$tmp/scan.db" --sign \
    --speed max --port 0 --exit-after 1 --report "$tmp/report.json" --log-level trace
replay_pid=$started_pid
budget 15
timeout -k 2 "$secs" node --no-warnings "$here/node/replay_consumer.mjs" --url "$(field ws "$ready")scan-client" \
    >"$tmp/consumer.out" 2>"$tmp/consumer.err" || fail "the replay consumer failed: $(cat "$tmp/consumer.err")"
wait_exit "$replay_pid" 10
[[ $(field frames "$(cat "$tmp/consumer.out")") == "$injected" ]] || fail "the consumer got $(cat "$tmp/consumer.out")"

DIALPAD_API_KEY=$api_key-wrong "$DIALPAD_RECORD" --api-base "$http" --create --out "$tmp/refused.db" \
    >"$tmp/wrong_key.out" 2>"$tmp/wrong_key.err" && fail "a wrong key was accepted"
curl -sS --max-time 5 "$admin/health" -H "Authorization: Bearer $admin_token-wrong" >"$tmp/wrong_admin.out" 2>&1 || true
stop_process "$mock_pid"

# --- The scan ------------------------------------------------------------------
scanned=("$tmp"/*.err "$tmp"/*.out "$tmp/scan.jsonl" "$tmp/report.json" "$tmp"/scan.db*)
for file in "${scanned[@]}"; do
    [[ -f $file ]] || continue
    for needle in "$api_key" "$secret" "$admin_token" "$token_header"; do
        if grep -a -q -F -- "$needle" "$file"; then
            fail "$(basename "$file") holds a secret (${needle:0:12}…)"
        fi
    done
done
# The scan can see: the recorder's trace log did name its URLs, masked.
grep -q '<token>' "$tmp/record.err" || fail "the recorder's trace log shows no masked URL: is it logging at all?"

if ((failures)); then exit 1; fi
echo "secret_scan: ok (${#scanned[@]} files, $injected events, $connections connections)"
