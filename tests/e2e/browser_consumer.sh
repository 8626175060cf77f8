#!/usr/bin/env bash
# A real browser as the consumer: Debian's chromium, headless, driven by npm's
# playwright-core (tests/e2e/browser/browser_consumer.mjs), loads a plain-JS
# page (tests/e2e/browser/index.html, app.js) from an origin other than
# dialpad-mock's, so every REST call goes through the mock's CORS. The page
# creates a websocket with a secret and call + SMS subscriptions, connects,
# verifies every frame as an HS256 JWT with WebCrypto and lists each event;
# the driver injects events and a scenario through the admin API, moves the
# virtual clock past the hourly cut (the page GETs a fresh URL and
# reconnects), and asserts the page lists exactly the injected events, once
# each, in order. Then the page verifies with a wrong secret and must show
# the signature error. Screenshots go to $HARNESS_E2E_ARTIFACTS when set,
# else to the scratch directory (removed on exit).
#
# chromium and the npm packages come from `bash scripts/setup`; this test
# never installs. The mock and every chromium process (found by the profile
# directory playwright makes under this test's scratch directory) are stopped
# on any exit; every wait is bounded and the whole script keeps to a 55 s
# budget.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
node_dir=$here/node
chromium=/usr/bin/chromium

for tool in timeout mkfifo pgrep; do
    command -v "$tool" >/dev/null || { echo "browser_consumer: SKIP ($tool is not installed)"; exit 125; }
done
if [[ ! -x ${DIALPAD_MOCK:-} ]]; then
    echo "browser_consumer: SKIP (DIALPAD_MOCK must name the program)"
    exit 125
fi
if ! command -v node >/dev/null || [[ ! -d $node_dir/node_modules/playwright-core || ! -x $chromium ]]; then
    echo "FAIL: node, $chromium or tests/e2e/node/node_modules/playwright-core is missing: run 'bash scripts/setup' (it installs chromium, nodejs, npm and the packages)"
    exit 1
fi
# playwright-core needs Node.js 20 or later, which scripts/setup cannot provide
# where the distribution's nodejs is older.
if (($(node -p 'process.versions.node.split(".")[0]') < 20)); then
    echo "browser_consumer: SKIP (playwright-core needs Node.js >= 20, this is $(node --version))"
    exit 125
fi

source "$here/lib.sh"

key=browser-consumer-key
artifacts=${HARNESS_E2E_ARTIFACTS:-$tmp}
mkdir -p "$artifacts"

# Chromium runs in process groups of its own (its crash handlers reparented to
# init), out of reach of the driver's timeout; each of its processes names a
# directory under $tmp: the profile, or the crash database under
# XDG_CONFIG_HOME.
browser_pids() { pgrep -f -- "--(user-data-dir|database)=$tmp/" || true; }
stop_browser() {
    local pid
    for pid in $(browser_pids); do stop_process "$pid"; done
}
trap 'stop_browser; cleanup' EXIT

# The mock on a virtual clock that moves only through the admin API.
start_mock mock --clock virtual --time-scale 0 --api-key "$key@acme"

# The key in the environment only. TMPDIR puts playwright's fresh browser
# profile under $tmp, the XDG directories chromium's crash reports and caches.
budget 45
code=0
env DIALPAD_API_KEY="$key" TMPDIR="$tmp" XDG_CONFIG_HOME="$tmp/config" XDG_CACHE_HOME="$tmp/cache" timeout -k 2 "$secs" node "$here/browser/browser_consumer.mjs" \
    --http "$http" --admin "$admin" --out-dir "$artifacts" >"$tmp/driver.out" 2>"$tmp/driver.err" || code=$?

# The driver closes the browser; its crash handlers follow it within moments.
for ((i = 0; i < 30; i++)); do
    left=$(browser_pids)
    [[ -n $left ]] || break
    pause
done
if [[ -n $left ]]; then
    fail "chromium still running 3 s after the driver exited: $(echo $left)"
    stop_browser
fi
if grep -q -F -- "$key" "$tmp/driver.out" "$tmp/driver.err"; then fail "the API key appears in the driver's output"; fi
if [[ $code -ne 0 ]]; then
    fail "the driver exited $code: $(head -c 1000 "$tmp/driver.err")"
else
    summary=$(cat "$tmp/driver.out")
    [[ $(wc -l <"$tmp/driver.out") -eq 1 && $summary == '{"ok":true,'* ]] || fail "expected one ok summary line, got: $summary"
    [[ $summary == *'"connections":2,'* ]] || fail "not 2 connections: $summary"
    [[ $summary == *'"events":18,"explicit":8,"scenario":10,"per_connection":[16,2],'* ]] || fail "not 18 events: $summary"
    [[ $summary == *'"wrong_secret":"connection 1, frame 1: JWT verification failed: invalid signature"'* ]] ||
        fail "wrong secret: no signature error: $summary"
    [[ ! -s "$tmp/driver.err" ]] || fail "the driver wrote to stderr: $(head -c 500 "$tmp/driver.err")"
    echo "browser_consumer: $summary"
    for shot in "$artifacts/browser_consumer.png" "$artifacts/browser_consumer_wrong_secret.png"; do
        if [[ -s $shot ]]; then echo "screenshot: $shot"; else fail "no screenshot at $shot"; fi
    done
fi

stop_process "$mock_pid"
if ((failures > 0)); then
    echo "--- mock.err"
    cat "$tmp/mock.err"
fi
echo "browser_consumer: $failures failure(s)"
[[ $failures -eq 0 ]]
