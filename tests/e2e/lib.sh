# What every e2e script shares: failure counting, a time budget, a scratch
# directory, and processes and fifos that are cleaned up on every exit path.
# Source it after the script's own prerequisite checks:
#   source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
# Then record each background process in `pids` and each fd opened on a fifo
# in `fds`; cleanup stops and closes them.

failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

deadline=$((SECONDS + 55))
tmp=$(mktemp -d)
pids=()  # processes started in the background and not yet reaped
fds=()   # file descriptors opened on fifos

forget() {  # forget PID: it was reaped, so cleanup must not signal its (reusable) id
    local kept=() p
    for p in "${pids[@]}"; do [[ $p == "$1" ]] || kept+=("$p"); done
    pids=("${kept[@]}")
}

# A short bounded pause for polling loops: read on a fifo nothing writes to.
mkfifo "$tmp/idle"
exec {idle_fd}<>"$tmp/idle"
fds+=("$idle_fd")
pause() { read -r -t 0.1 -u "$idle_fd" _ || true; }

# stop_process PID: SIGTERM, up to 2 s to go, then SIGKILL; reaps it.
stop_process() {
    local pid=$1 i
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 20; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        pause
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    forget "$pid"
}

cleanup() {
    local pid fd
    for pid in "${pids[@]}"; do stop_process "$pid"; done
    for fd in "${fds[@]}"; do exec {fd}>&- || true; done
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# budget N: sets $secs to N, or to what is left of the script's budget.
budget() {
    secs=$1
    local left=$((deadline - SECONDS))
    if ((left < 1)); then
        echo "FAIL: out of the script's time budget"
        exit 1
    fi
    if ((left < secs)); then secs=$left; fi
}

# wait_exit PID SECONDS: waits (bounded) for a background process to end;
# sets $code to its exit status, or 124 if it is still running.
wait_exit() {
    local pid=$1 i
    budget "$2"
    for ((i = 0; i < secs * 10; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        pause
    done
    if kill -0 "$pid" 2>/dev/null; then
        code=124
        return 0
    fi
    code=0
    { wait "$pid"; } 2>/dev/null || code=$?  # (no "Killed" notice from bash)
    forget "$pid"
}

# field NAME JSON: the value of "NAME" in one line of flat JSON (a string's
# contents, or a number or boolean as written); empty when absent.
field() {
    if [[ $2 =~ \"$1\":\"([^\"]*)\" || $2 =~ \"$1\":([-0-9.eE+]+|true|false|null) ]]; then
        printf '%s' "${BASH_REMATCH[1]}"
    fi
}

# start_with_ready_line NAME PROGRAM ARGS...: starts PROGRAM in the background
# and reads the one ready line it prints on stdout (bounded); sets $ready and
# $started_pid, or fails the script. Its stderr goes to $tmp/NAME.err.
start_with_ready_line() {
    local name=$1 fd
    shift
    mkfifo "$tmp/$name.fifo"
    "$@" >"$tmp/$name.fifo" 2>"$tmp/$name.err" &
    started_pid=$!
    pids+=("$started_pid")
    # Read-write: opening does not wait for the writer, and the program never
    # gets SIGPIPE however long it runs.
    exec {fd}<>"$tmp/$name.fifo"
    fds+=("$fd")
    budget 10
    ready=''
    read -r -t "$secs" -u "$fd" ready || true
    if [[ $(field ready "$ready") != true ]]; then
        echo "FAIL: $name gave no ready line within $secs s (got '$ready'); its stderr:"
        head -c 4000 "$tmp/$name.err"
        exit 1
    fi
}

# start_mock NAME ARGS...: $DIALPAD_MOCK --port 0 ARGS...; sets $http, $admin
# and $mock_pid. Its stderr goes to $tmp/NAME.err.
start_mock() {
    local name=$1
    shift
    start_with_ready_line "$name" "$DIALPAD_MOCK" --port 0 "$@"
    mock_pid=$started_pid
    http=$(field http "$ready")
    admin=$(field admin "$ready")
}
