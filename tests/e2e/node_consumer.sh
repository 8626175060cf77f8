#!/usr/bin/env bash
# A third-party Node.js consumer (npm's ws and jsonwebtoken, tests/e2e/node/)
# runs the real flow against dialpad-mock on a virtual clock: creates a
# websocket with a secret and call + SMS subscriptions, GETs a fresh URL,
# connects, verifies every frame as an HS256 JWT, survives the hourly cuts by
# GETting a fresh URL and reconnecting, and gets every injected event exactly
# once (tests/e2e/node/consumer_flow.mjs). Checked with both cut styles
# (abrupt, the default, and close-frame), and once with a wrong secret on the
# consumer's side, which must fail on the signature.
#
# The npm packages come from `bash scripts/setup`; this test never installs.
# Every mock it starts is stopped on any exit and the temporary directory
# removed; every wait is bounded and the whole script keeps to a 55 s budget.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
node_dir=$here/node

for tool in timeout mkfifo; do
    command -v "$tool" >/dev/null || { echo "node_consumer: SKIP ($tool is not installed)"; exit 125; }
done
if [[ ! -x ${DIALPAD_MOCK:-} ]]; then
    echo "node_consumer: SKIP (DIALPAD_MOCK must name the program)"
    exit 125
fi
if ! command -v node >/dev/null || [[ ! -d $node_dir/node_modules/ws || ! -d $node_dir/node_modules/jsonwebtoken ]]; then
    echo "FAIL: node or tests/e2e/node/node_modules is missing: run 'bash scripts/setup' (it installs nodejs, npm and the packages)"
    exit 1
fi

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

key=node-consumer-key

# start_virtual_mock NAME ARGS...: the mock on a virtual clock that moves only
# through the admin API, with the test's key.
start_virtual_mock() {
    local name=$1
    shift
    start_mock "mock_$name" --clock virtual --time-scale 0 --api-key "$key@acme" "$@"
}

# consume NAME [ENV=VALUE...]: runs the consumer (bounded) against the latest
# mock, the key in the environment only; stdout and stderr go to
# $tmp/NAME.out and $tmp/NAME.err, the exit status to $code.
consume() {
    local name=$1
    shift
    budget 15
    code=0
    # --no-warnings: Debian 12's Node 18 flags fetch as experimental on stderr.
    env DIALPAD_API_KEY="$key" "$@" timeout -k 2 "$secs" node --no-warnings "$node_dir/consumer_flow.mjs" \
        --http "$http" --admin "$admin" --connections 3 --ttl 3600 \
        >"$tmp/$name.out" 2>"$tmp/$name.err" || code=$?
    if grep -q -F -- "$key" "$tmp/$name.out" "$tmp/$name.err"; then fail "$name: the API key appears in the consumer's output"; fi
}

# check_success NAME CLOSE_CODE: the consumer passed, and its summary shows
# 3 connections, 30 events, and every cut with CLOSE_CODE.
check_success() {
    local name=$1 close=$2 summary
    if [[ $code -ne 0 ]]; then
        fail "$name: the consumer exited $code: $(head -c 500 "$tmp/$name.err")"
        return
    fi
    summary=$(cat "$tmp/$name.out")
    [[ $(wc -l <"$tmp/$name.out") -eq 1 ]] || fail "$name: expected one summary line, got: $summary"
    [[ $summary == *'"ok":true'* ]] || fail "$name: summary is not ok: $summary"
    [[ $summary == *'"connections":3,'* && $summary == *'"reconnects":2,'* ]] || fail "$name: not 3 connections: $summary"
    [[ $summary == *'"events":30,'* && $summary == *'"per_connection":[10,10,10]'* ]] || fail "$name: not 30 events: $summary"
    [[ $summary == *"\"close_codes\":[$close,$close,$close]"* ]] || fail "$name: cuts not all $close: $summary"
    [[ ! -s "$tmp/$name.err" ]] || fail "$name: wrote to stderr: $(head -c 500 "$tmp/$name.err")"
    echo "$name: $summary"
}

# --- 1. The default hour cut (abrupt: no close frame, 1006 at the client) ----
start_virtual_mock abrupt
consume abrupt
check_success abrupt 1006

# --- 2. A wrong secret on the consumer's side: the first frame fails ---------
admin_reset() {  # POST /__admin/reset, through node so the test needs no curl
    node -e 'fetch(process.argv[1], {method: "POST", signal: AbortSignal.timeout(5000)})
        .then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))' "$admin/reset"
}
if admin_reset; then
    consume wrong_secret NODE_CONSUMER_VERIFY_SECRET=not-the-websocket-secret
    if [[ $code -ne 1 ]]; then
        fail "wrong secret: the consumer exited $code, expected 1"
    elif [[ $(wc -l <"$tmp/wrong_secret.err") -ne 1 ]] ||
        ! grep -q '^consumer_flow: connection 1, frame 1: JWT verification failed: invalid signature$' "$tmp/wrong_secret.err"; then
        fail "wrong secret: expected one line naming the invalid signature, got: $(head -c 500 "$tmp/wrong_secret.err")"
    elif [[ -s "$tmp/wrong_secret.out" ]]; then
        fail "wrong secret: printed a summary: $(cat "$tmp/wrong_secret.out")"
    else
        echo "wrong_secret: failed as expected: $(cat "$tmp/wrong_secret.err")"
    fi
else
    fail "POST /__admin/reset failed"
fi
stop_process "$mock_pid"

# --- 3. The hour cut as a 1001 close frame ------------------------------------
start_virtual_mock close_frame --hour-cut close-frame
consume close_frame
check_success close_frame 1001
stop_process "$mock_pid"

if ((failures > 0)); then
    for err in "$tmp"/*.err; do
        echo "--- $(basename "$err")"
        cat "$err"
    done
fi
echo "node_consumer: $failures failure(s)"
[[ $failures -eq 0 ]]
