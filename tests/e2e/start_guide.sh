#!/usr/bin/env bash
# The first steps dialpad-mock prints (--guide) work as printed: the curl that
# creates a websocket and the one that subscribes to calls, a third-party
# websocket client (npm's ws) on the returned URL, the admin calls that
# trigger a scenario and play the busy-hour fixture; every event they make
# arrives, as plain JSON. Also `--replay FIXTURE` by name, and the refusals
# of bad --guide, --fixtures and --replay values.
#
# Every process it starts is stopped on any exit and the temporary directory
# removed; every wait is bounded and the whole script keeps to a 55 s budget.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
node_dir=$here/node

for tool in curl timeout mkfifo; do
    command -v "$tool" >/dev/null || { echo "start_guide: SKIP ($tool is not installed)"; exit 125; }
done
if [[ ! -x ${DIALPAD_MOCK:-} ]]; then
    echo "start_guide: SKIP (DIALPAD_MOCK must name the program)"
    exit 125
fi
if ! command -v node >/dev/null || [[ ! -d $node_dir/node_modules/ws ]]; then
    echo "FAIL: node or tests/e2e/node/node_modules is missing: run 'bash scripts/setup' (it installs nodejs, npm and the packages)"
    exit 1
fi

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# start_client NAME URL: the ws client, its stdin a fifo the script writes
# the expected count to; waits until it printed "connected".
start_client() {
    local name=$1 url=$2 line='' in out
    mkfifo "$tmp/$name.in" "$tmp/$name.out"
    WS_URL=$url node --no-warnings "$node_dir/count_events.mjs" <"$tmp/$name.in" >"$tmp/$name.out" 2>"$tmp/$name.err" &
    pids+=($!)
    client_pid=$!
    exec {in}>"$tmp/$name.in" {out}<"$tmp/$name.out"
    fds+=("$in" "$out")
    client_in=$in client_out=$out
    budget 10
    read -r -t "$secs" -u "$client_out" line || true
    [[ $line == connected ]] || { echo "FAIL: $name did not connect: '$line' $(cat "$tmp/$name.err")"; exit 1; }
}

# expect_events NAME COUNT: tells the client how many to wait for and checks
# that it got them all, as plain JSON.
expect_events() {
    local name=$1 count=$2 line=''
    echo "$count" >&"$client_in"
    budget 15
    read -r -t "$secs" -u "$client_out" line || true
    [[ $line == "{\"received\":$count,\"plain_json\":true}" ]] || fail "$name: expected $count plain JSON events, got '$line'"
    wait "$client_pid" 2>/dev/null || fail "$name: the client exited with an error: $(cat "$tmp/$name.err")"
    forget "$client_pid"
}


# --- The printed steps, run as printed ----------------------------------------
start_mock guided --clock virtual --time-scale 0 --guide always
for ((i = 0; i < 50; i++)); do
    grep -q 'Scenarios:' "$tmp/guided.err" && break
    pause
done
mapfile -t commands < <(grep -E '^   curl -s -X POST ' "$tmp/guided.err")
if ((${#commands[@]} != 4)); then
    echo "FAIL: expected 4 curl commands in the guide, found ${#commands[@]}:"
    cat "$tmp/guided.err"
    exit 1
fi
for c in "${commands[@]}"; do [[ $c == *"$http/"* ]] || fail "a printed command does not use the mock's address: $c"; done
grep -q "websocket_url" "$tmp/guided.err" || fail "the guide does not say to connect to websocket_url"

created=$(eval "${commands[0]}")
id=$(field id "$created")
url=$(field websocket_url "$created")
[[ -n $id && $url == ws://* ]] || { echo "FAIL: the printed websocket curl answered '$created'"; exit 1; }
subscribed=$(eval "${commands[1]//\"ID\"/\"$id\"}")
[[ $subscribed == *'"call_states":["all"]'* ]] || fail "the printed subscription curl answered '$subscribed'"

start_client guided_client "$url"
scenario=$(eval "${commands[3]}")
scenario_events=$(field delivered "$scenario")
[[ $scenario_events -eq 10 ]] || fail "the printed scenario curl delivered '$scenario_events' events, not 10: $scenario"
replay=$(eval "${commands[2]}")
replay_id=$(field id "$replay")
[[ $(field state "$replay") == running ]] || fail "the printed fixture curl answered '$replay'"
# Speed 60: the busy hour's 55 minutes take 55 s of the mock's clock.
curl -sS --max-time 5 -X POST "$admin/clock/advance" -d '{"seconds":120}' >/dev/null
status=''
for ((i = 0; i < 100; i++)); do
    status=$(curl -sS --max-time 5 "$admin/replay/$replay_id")
    [[ $(field state "$status") == finished ]] && break
    pause
done
[[ $(field state "$status") == finished ]] || fail "the busy-hour replay did not finish: $status"
played=$(field delivered "$status")
((played > 100)) || fail "the busy-hour replay delivered only '$played' call events"
expect_events guided_client $((scenario_events + played))

# --- --replay FIXTURE ---------------------------------------------------------
start_mock by_name --clock virtual --time-scale 0 --replay inbound_call_answered --replay-speed max
created=$(curl -sS --max-time 5 -X POST "$http/api/v2/websockets" -H 'Authorization: Bearer dev-key' -d '{}')
id=$(field id "$created")
curl -sS --max-time 5 -X POST "$http/api/v2/subscriptions/call" -H 'Authorization: Bearer dev-key' \
    -d "{\"endpoint_id\":\"$id\"}" >/dev/null
start_client by_name_client "$(field websocket_url "$created")"
expect_events by_name_client 10

# --- Refusals: exit 2 with one line -------------------------------------------
refused() {
    local what=$1 code=0
    shift
    timeout -k 2 10 "$DIALPAD_MOCK" --port 0 "$@" >"$tmp/refused.out" 2>"$tmp/refused.err" || code=$?
    [[ $code -eq 2 ]] || fail "$what: exit $code, not 2"
    [[ $(wc -l <"$tmp/refused.err") -eq 1 ]] || fail "$what: expected one line, got: $(cat "$tmp/refused.err")"
}
refused "--replay with an unknown fixture" --replay no_such_fixture
refused "--guide with a bad value" --guide sometimes
refused "--fixtures naming no folder" --fixtures "$tmp/no-such-folder"

if ((failures)); then exit 1; fi
echo "start_guide: ok"
