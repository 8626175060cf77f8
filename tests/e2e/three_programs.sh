#!/usr/bin/env bash
# The three programs as processes together: dialpad-record records
# dialpad-mock through two hourly cuts, dialpad-replay serves the archive to a
# Node consumer, and the digests are compared.
#
# Both clocks run 600 times real speed (an hour is 6 s). The recorder creates a
# websocket with a secret and call + SMS subscriptions, and opens the next
# connection ahead of each cut with its overlap, held past the cut here
# (--refresh-lead 10m --overlap 11m: a second of real time for the refresh's
# GET and upgrade, however loaded the machine), so the mock's hour cut ends a
# connection while the next one is open. Meanwhile the test injects distinct call and SMS events in batches, a
# trickle paced by the mock's clock and a burst whenever a connection is near
# its cut (its refresh, the overlap and the cut itself), until the mock's clock
# has passed two cuts. Then:
#   - every injected event was sent by the mock (GET /__admin/deliveries) and is
#     archived exactly once, in injection order, byte for byte (the recorder
#     drops the copies the overlapping connections both got);
#   - the archive has at least 3 connections and no gap;
#   - `dialpad-replay serve --speed max` to tests/e2e/node/replay_consumer.mjs:
#     the consumer's digest, the replay report's and one made from the archive's
#     export all agree, over as many frames as were injected.
# The checks are in node/closed_loop_check.mjs, the process handling in
# closed_loop_lib.sh (shared with scripts/closed-loop-demo).
#
# Every process it starts is stopped on any exit and the temporary directory
# removed; every wait is bounded and the whole script keeps to a 55 s budget.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

for tool in curl sqlite3 timeout mkfifo; do
    command -v "$tool" >/dev/null || { echo "three_programs: SKIP ($tool is not installed)"; exit 125; }
done
if [[ ! -x ${DIALPAD_MOCK:-} || ! -x ${DIALPAD_RECORD:-} || ! -x ${DIALPAD_REPLAY:-} ]]; then
    echo "three_programs: SKIP (DIALPAD_MOCK, DIALPAD_RECORD and DIALPAD_REPLAY must name the programs)"
    exit 125
fi
if ! command -v node >/dev/null || [[ ! -d $here/node/node_modules/ws ]]; then
    echo "FAIL: node or tests/e2e/node/node_modules is missing: run 'bash scripts/setup' (it installs nodejs, npm and the packages)"
    exit 1
fi

source "$here/lib.sh"
source "$here/closed_loop_lib.sh"

# --- Injection ------------------------------------------------------------------
# Each event is distinct (its id is a serial number) and carries non-ASCII
# text, so a byte changed anywhere shows. Its exact text goes to
# $tmp/injected.jsonl, in injection order.
serial=0
call_states=(ringing connected hangup)
: >"$tmp/injected.jsonl"

# inject_batch COUNT: COUNT events, calls and SMS alternating, in one
# all-or-nothing batch; the mock must send each to at least one connection.
inject_batch() {
    local count=$1 i raw type body='' answer
    for ((i = 0; i < count; i++)); do
        serial=$((serial + 1))
        if ((serial % 2)); then
            type=call
            raw="{\"call_id\":$((7100000000000000 + serial)),\"state\":\"${call_states[serial % 3]}\",\"direction\":\"inbound\",\"external_number\":\"+15555550100\",\"internal_number\":\"+15555550199\",\"event_timestamp\":$now_ms,\"target\":{\"id\":5100000000000001,\"type\":\"user\",\"name\":\"Zoë Agent\"}}"
        else
            type=sms
            raw="{\"id\":$((7200000000000000 + serial)),\"direction\":\"inbound\",\"message_status\":\"pending\",\"is_internal\":false,\"from_number\":\"+15555550100\",\"to_number\":[\"+15555550199\"],\"text\":\"message $serial, café ✓\",\"event_timestamp\":$now_ms}"
        fi
        printf '%s\n' "$raw" >>"$tmp/injected.jsonl"
        body+="${body:+,}{\"type\":\"$type\",\"raw\":\"${raw//\"/\\\"}\"}"
    done
    answer=$(admin_post /events "{\"events\":[$body]}") || loop_die "POST /__admin/events failed: $answer"
    [[ $(field events "$answer") == "$count" ]] || loop_die "POST /__admin/events: answered $answer for $count events"
    (($(field deliveries "$answer") >= count)) || loop_die "POST /__admin/events: some of $count events reached no connection: $answer"
}

# --- 1. Record through two hourly cuts ------------------------------------------
start_loop_mock
start_loop_recorder "$tmp/loop.db" --subscribe call:all --subscribe sms:inbound \
    --refresh-lead 10m --overlap 11m

# Until the mock's clock is 5 min past the second cut: 3 events every ~0.1 s,
# and back to back while a connection is within 11 min of its cut (from just
# before the refresh, through the overlap, to the cut).
end_ms=$((loop_start_ms + 2 * loop_hour_ms + 300000))
near_cut_batches=0
budget 30
stop_by=$((SECONDS + secs))
while :; do
    read_mock_clock
    ((now_ms < end_ms)) || break
    ((SECONDS < stop_by)) || loop_die "the mock's clock did not pass two cuts within $secs s"
    kill -0 "$recorder_pid" 2>/dev/null || loop_die "dialpad-record ended while recording: $(tail -c 2000 "$tmp/record.err")"
    read_oldest_age
    inject_batch 3
    if ((oldest_age >= 3600 - 660)); then
        near_cut_batches=$((near_cut_batches + 1))
    else
        pause
    fi
done
injected=$serial
echo "injected $injected events ($near_cut_batches batches of 3 near a cut)"

wait_archived "$tmp/loop.db" "$injected"
stop_loop_recorder
grep -o 'record.done.*' "$tmp/record.err" || true

# --- 2. Replay to the Node consumer, compare ------------------------------------
replay_to_consumer "$tmp/loop.db"
check_loop "$tmp/loop.db" --injected "$tmp/injected.jsonl"
echo "check: $loop_summary"
stop_loop_mock
if [[ $code -ne 0 ]]; then
    fail "the closed loop does not add up (closed_loop_check exited $code):"
    cat "$tmp/check.err"
fi
connections=$(field connections "$loop_summary")
((connections >= 3)) || fail "the archive has $connections connections, expected at least 3 (two cuts crossed)"
[[ $(field gaps "$loop_summary") == 0 ]] || fail "the archive has gaps: $loop_summary"
[[ $(field consumer_frames "$loop_summary") == "$injected" ]] ||
    fail "the consumer received $(field consumer_frames "$loop_summary") frames, $injected events were injected"
[[ $(field sent_twice "$loop_summary") -ge 1 ]] ||
    fail "no event was sent on two overlapping connections: the recorder's de-duplication went untested"

if ((failures > 0)); then
    for err in "$tmp"/*.err; do
        echo "--- $(basename "$err")"
        tail -c 3000 "$err"
    done
fi
echo "three_programs: $failures failure(s)"
[[ $failures -eq 0 ]]
