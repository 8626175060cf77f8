# The closed loop, as functions shared by tests/e2e/three_programs.sh and
# scripts/closed-loop-demo: dialpad-mock and dialpad-record on the same scaled
# virtual clock, the recorder's archive served by dialpad-replay to the Node
# consumer (node/replay_consumer.mjs), and node/closed_loop_check.mjs comparing
# what each step left. Source it after lib.sh (it uses $tmp, pids, fds,
# budget, pause, wait_exit) with DIALPAD_MOCK, DIALPAD_RECORD and
# DIALPAD_REPLAY naming the programs; curl, sqlite3 and node must be there.
#
# Every failure here is fatal: one "FAIL: ..." line, then exit 1 (lib.sh's
# trap stops the processes and removes $tmp).

loop_node_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/node

# An hour of the mock's and the recorder's clocks lasts 6 s: two hourly cuts
# in about 13 s.
loop_scale=600
loop_hour_ms=3600000

# The mock's default key (no --api-key), so no key is ever on a command line;
# the recorder reads it from its environment.
loop_api_key=dev-key

loop_die() {
    echo "FAIL: $*"
    exit 1
}

admin_get() { curl -sS --fail-with-body --max-time 5 "$admin$1"; }
admin_post() { curl -sS --fail-with-body --max-time 5 -X POST -H 'Content-Type: application/json' --data-binary "$2" "$admin$1"; }

# read_mock_clock: sets $now_ms to the mock's time, in Unix milliseconds.
# (Functions that can fail set variables: a failure inside $(...) would end
# only the subshell.)
read_mock_clock() {
    local clock
    clock=$(admin_get /clock) || loop_die "GET /__admin/clock failed: $clock"
    now_ms=$(field now_ms "$clock")
    [[ $now_ms =~ ^[0-9]+$ ]] || loop_die "GET /__admin/clock gave no now_ms: $clock"
}

# start_loop_mock: dialpad-mock on a free port and the scaled virtual clock;
# sets $mock_pid, $http and $admin.
start_loop_mock() {
    start_with_ready_line mock "$DIALPAD_MOCK" --port 0 --clock virtual --time-scale "$loop_scale"
    mock_pid=$started_pid
    http=$(field http "$ready")
    admin=$(field admin "$ready")
}

# start_loop_recorder ARCHIVE --subscribe KIND...: dialpad-record creating a
# websocket with a secret and the given subscriptions on the latest mock, on
# the same scaled clock; sets $recorder_pid. Stdout and stderr go to
# $tmp/record.out and $tmp/record.err. Then waits (bounded) until the mock
# lists its connection, and sets $loop_start_ms to the mock's time when it
# opened.
start_loop_recorder() {
    local archive=$1 i listing age
    shift
    # The websocket's signing secret, made for this run; like the key, it
    # reaches dialpad-record through its environment only.
    loop_secret=$(head -c 18 /dev/urandom | base64 | tr '+/' '-_')
    DIALPAD_API_KEY=$loop_api_key DIALPAD_WEBSOCKET_SECRET=$loop_secret "$DIALPAD_RECORD" \
        --clock virtual --time-scale "$loop_scale" --create "$@" --api-base "$http" --out "$archive" --session-name closed-loop \
        >"$tmp/record.out" 2>"$tmp/record.err" &
    recorder_pid=$!
    pids+=("$recorder_pid")
    budget 10
    for ((i = 0; i < secs * 10; i++)); do
        listing=$(admin_get /connections) || loop_die "GET /__admin/connections failed: $listing"
        if [[ $listing =~ \"age_seconds\":([0-9.]+) ]]; then
            age=${BASH_REMATCH[1]}
            read_mock_clock
            loop_start_ms=$((now_ms - ${age%.*} * 1000))
            return 0
        fi
        kill -0 "$recorder_pid" 2>/dev/null || loop_die "dialpad-record ended before it connected: $(head -c 2000 "$tmp/record.err")"
        pause
    done
    loop_die "dialpad-record did not connect within $secs s: $(head -c 2000 "$tmp/record.err")"
}

# read_oldest_age: sets $oldest_age to the age in whole seconds, on the mock's
# clock, of the oldest live event connection (0 when none).
read_oldest_age() {
    local listing ages age
    listing=$(admin_get /connections) || loop_die "GET /__admin/connections failed: $listing"
    ages=$(grep -o '"age_seconds":[0-9]*' <<<"$listing" | cut -d: -f2 || true)
    oldest_age=0
    for age in $ages; do
        if ((age > oldest_age)); then oldest_age=$age; fi
    done
}

# wait_archived ARCHIVE N: waits (bounded) until the archive holds at least N
# event frames (the recorder commits within its durability window).
wait_archived() {
    local archive=$1 want=$2 i have=0
    budget 10
    for ((i = 0; i < secs * 10; i++)); do
        have=$(sqlite3 -readonly "$archive" "select count(*) from frames where kind = 'event'" 2>/dev/null || echo 0)
        if ((have >= want)); then return 0; fi
        kill -0 "$recorder_pid" 2>/dev/null || loop_die "dialpad-record ended early: $(tail -c 2000 "$tmp/record.err")"
        pause
    done
    loop_die "the archive holds $have event frames after $secs s, expected $want"
}

# stop_loop_recorder: SIGTERM, then the recorder must end by itself with 0.
stop_loop_recorder() {
    kill -TERM "$recorder_pid"
    wait_exit "$recorder_pid" 10
    if [[ $code -ne 0 ]]; then
        loop_die "dialpad-record exited $code on SIGTERM (124: still running): $(tail -c 2000 "$tmp/record.err")"
    fi
    if grep -q -F -e "$loop_api_key" -e "$loop_secret" "$tmp/record.err" "$tmp/record.out"; then
        loop_die "dialpad-record logged the API key or the secret"
    fi
}

# stop_loop_mock: SIGTERM, then the mock must end by itself with 0 (under
# the sanitizers, also without a leak or an error report).
stop_loop_mock() {
    kill -TERM "$mock_pid"
    wait_exit "$mock_pid" 10
    if [[ $code -ne 0 ]]; then
        loop_die "dialpad-mock exited $code on SIGTERM (124: still running): $(tail -c 2000 "$tmp/mock.err")"
    fi
}

# replay_to_consumer ARCHIVE: dialpad-replay serves the archive at full speed
# to one client, the Node consumer, then exits; leaves the report in
# $tmp/report.json and the consumer's line in $tmp/consumer.json.
replay_to_consumer() {
    local archive=$1 ws
    start_with_ready_line replay "$DIALPAD_REPLAY" serve "$archive" --speed max --port 0 --exit-after 1 \
        --report "$tmp/report.json"
    local replay_pid=$started_pid
    ws=$(field ws "$ready")
    budget 20
    code=0
    # --no-warnings: keeps Node's notices off stderr, which holds only failures.
    timeout -k 2 "$secs" node --no-warnings "$loop_node_dir/replay_consumer.mjs" --url "${ws}closed-loop" \
        --timeout-ms $((secs * 1000 - 1000)) >"$tmp/consumer.json" 2>"$tmp/consumer.err" || code=$?
    [[ $code -eq 0 ]] || loop_die "the replay consumer exited $code: $(head -c 1000 "$tmp/consumer.err")"
    wait_exit "$replay_pid" 10
    [[ $code -eq 0 ]] || loop_die "dialpad-replay serve exited $code (124: still running): $(tail -c 2000 "$tmp/replay.err")"
}

# check_loop ARCHIVE [--injected FILE]: exports the archive and runs
# closed_loop_check.mjs on it with the mock's deliveries, the replay report
# and the consumer's line; sets $loop_summary (its JSON line) and $code, and
# leaves its complaints in $tmp/check.err.
check_loop() {
    local archive=$1 deliveries
    shift
    "$DIALPAD_REPLAY" export "$archive" -o "$tmp/archive.jsonl" 2>"$tmp/export.err" ||
        loop_die "dialpad-replay export failed: $(head -c 1000 "$tmp/export.err")"
    deliveries=$(admin_get /deliveries) || loop_die "GET /__admin/deliveries failed: $deliveries"
    printf '%s\n' "$deliveries" >"$tmp/deliveries.json"
    code=0
    loop_summary=$(node --no-warnings "$loop_node_dir/closed_loop_check.mjs" --export "$tmp/archive.jsonl" \
        --deliveries "$tmp/deliveries.json" --report "$tmp/report.json" --consumer "$tmp/consumer.json" "$@" \
        2>"$tmp/check.err") || code=$?
}
