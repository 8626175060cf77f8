#include "mockserver/command_line.hpp"

#include "core/cli/program.hpp"

#include <string>

namespace harness::mock {

cli::option_parser make_command_line() {
    cli::option_parser parser{
        "dialpad-mock", "[options]",
        "Emulates Dialpad's REST API for event subscriptions (websockets, webhooks, call/sms/contact/\n"
        "agent_status/changelog subscriptions) and the token-bearing event websocket on 127.0.0.1, so a\n"
        "client runs its real flow with no credentials; tests steer it through /__admin/. When ready it\n"
        "prints one JSON line on stdout with its URLs; logs go to stderr."};
    parser.value("host", "ADDRESS", "Address to listen on.", "127.0.0.1")
        .value("port", "PORT", "Port to listen on; 0 picks a free one.", "8088")
        .repeated("api-key", "KEY[@COMPANY]",
                  "A made-up API key the mock accepts, and the company it belongs to (default company: "
                  "'default'); listed in the ready line. Without any key from here, --api-keys-file or "
                  "DIALPAD_MOCK_API_KEYS, the key 'dev-key' is accepted.")
        .value("api-keys-file", "FILE",
               "More keys, KEY[@COMPANY] separated by whitespace or commas ('#' starts a comment), as "
               "DIALPAD_MOCK_API_KEYS also holds them: for keys that must not reach the command line, the "
               "ready line or a log, which these never do.")
        .value("public-url", "URL", "Base URL clients reach the mock by, used in websocket_url values.")
        .value("tls-cert", "FILE", "PEM certificate: serve https and wss on the port (with --tls-key).")
        .value("tls-key", "FILE", "PEM private key for --tls-cert.")
        .value("rate-limits", "off|dialpad", "Apply Dialpad's documented rate limits (429 when exceeded).", "off")
        .value("bad-token", "close|reject|legacy",
               "An invalid, expired or unknown websocket token: accept then close with 1008; refuse the "
               "upgrade with 401; or play the old service's dialogue (prompt, the client sends its API key).",
               "close")
        .value("connection-ttl", "SECONDS", "Cut every event websocket this long after it opened.", "3600")
        .value("hour-cut", "abrupt|close-frame",
               "How the cut looks: TCP close without a close frame, or a 1001 close frame.", "abrupt")
        .value("fanout", "all|newest", "Several connections on one websocket: all receive, or only the newest.",
               "all")
        .value("queue-limit", "FRAMES", "Events queued for one slow consumer before it is closed.", "4096")
        .value("clock", "system|virtual",
               "The time source for tokens, the hourly cut and events. A virtual clock is moved with "
               "POST /__admin/clock/advance.",
               "system")
        .value("seed", "N", "Seed of the event scenarios asked for without one.", "1")
        .value("time-scale", "N", "Run the virtual clock N times faster than real time (0: only when advanced).",
               "1")
        .value("fixtures", "DIR",
               "Sessions (*.jsonl) offered by name to --replay and POST /__admin/replay {\"fixture\":NAME}; "
               "'' for none.",
               "the clone's fixtures/")
        .value("admin-token-file", "FILE",
               "Require 'Authorization: Bearer <token>' on /__admin/, the token read from this file instead of "
               "DIALPAD_MOCK_ADMIN_TOKEN (never from the command line).")
        .flag("expose-admin", "Answer admin requests from beyond loopback too; needs an admin token.")
        .value("guide", "auto|always|never",
               "Print ready-to-paste first steps (curl, connecting, playing a fixture) on stderr; auto: when "
               "stderr is a terminal.",
               "auto")
        .value("replay", "ARCHIVE[:SESSION]|FIXTURE",
               "Play a recorded session (an archive, a .jsonl export or a fixture's name) into the event feed once "
               "the first event "
               "websocket connects, so the client has subscribed first; routed, signed and counted as "
               "POST /__admin/replay. SESSION: an id or a name (default: the only or latest).")
        .value("replay-speed", "X|max", "--replay: 1 = recorded timing, 10 = ten times faster, max = as fast as "
                                        "the connections take the events.",
               "1")
        .value("replay-max-gap", "D", "--replay: cut idle stretches longer than this (e.g. 5s).")
        .flag("replay-rebase-time", "--replay: shift event times so the first event reads now.");
    cli::add_standard_options(parser);
    return parser;
}

}  // namespace harness::mock
