#include "replayer/command_line.hpp"

#include "core/cli/program.hpp"

#include <string>

namespace harness::replayer {
namespace {

constexpr char const* k_commands =
    "Commands:\n"
    "  serve ARCHIVE|FILE.jsonl [--speed X|max] [--port P] ...  serve a session on /events/<token>\n"
    "  list ARCHIVE                          the sessions in an archive\n"
    "  show ARCHIVE [SESSION]                connections, gaps, event counts per family and state\n"
    "  export ARCHIVE [--session S] [-o F]   a session as JSON Lines (stdout without -o)\n"
    "  import FILE.jsonl -o ARCHIVE          a JSON Lines session into an archive\n"
    "  verify ARCHIVE                        integrity, schema and counts (exit 1 when damaged)\n"
    "  redact ARCHIVE -o OUT [--secret-file F] a copy with phones, emails and names pseudonymised\n"
    "SESSION is a numeric id or a name; without one, the only or latest session.";

}  // namespace

cli::option_parser make_command_line() {
    cli::option_parser parser{"dialpad-replay", "COMMAND ARGUMENTS [options]",
                              std::string{"Streams archived Dialpad event sessions to the code under test, and manages "
                                          "archives.\n\n"} +
                                  k_commands};
    parser.positional("COMMAND ARGUMENTS", "the command and its arguments (above)", 3)
        .value("session", "S", "The session: a numeric id or a name (default: the only or latest).")
        .value("output", "FILE", "Where export, import and redact write (-o for short).")
        .value("secret-file", "FILE",
               "redact, serve --sign: read the websocket secret from this file instead of DIALPAD_WEBSOCKET_SECRET "
               "(never from the command line).")
        .value("secret", "S", "Refused: set DIALPAD_WEBSOCKET_SECRET or give --secret-file.")
        .value("redact-rules", "LIST", "redact: all, or a comma list of phones, emails, names.", "all")
        .value("host", "ADDRESS", "serve: address to listen on.", "127.0.0.1")
        .value("port", "PORT", "serve: port; 0 picks a free one (the ready line on stdout names it).", "8090")
        .value("speed", "X|max", "serve: 1 = recorded timing, 10 = ten times faster, max = as fast as the client reads.", "1")
        .value("max-gap", "D", "serve: cut idle gaps longer than this (e.g. 5s).")
        .value("loop", "N", "serve: play the session N times.", "1")
        .value("require-token", "T", "serve: accept only /events/T (default: any token).")
        .value("report", "FILE", "serve: write the JSON report here at the end (default: stderr).")
        .value("exit-after", "N", "serve: stop once N clients have received the whole session.")
        .value("wait-clients", "N", "serve: start when N clients are connected, all at once.")
        .flag("rebase-time", "serve: shift event times (event_timestamp, date, created_date, date_*) so the first "
                             "event reads now; every other byte as recorded.")
        .flag("sign", "serve: re-sign every event as an HS256 JWT with the consumer's secret (DIALPAD_WEBSOCKET_SECRET "
                      "or --secret-file).")
        .value("sign-secret", "S", "Refused: use --sign with DIALPAD_WEBSOCKET_SECRET or --secret-file.")
        .value("mode", "per-client|broadcast",
               "serve: each client gets the whole session from its start, or all share one live timeline as with "
               "Dialpad.", "per-client")
        .repeated("filter", "KEY=VALUE",
                  "serve: only these events: family=call,sms  state=hangup  call=ID  call-graph=ID  from=90s  to=10m "
                  "(several narrow together).")
        .flag("replay-closes", "serve: close (or drop) connections where the service did in the recording; a client "
                               "reconnecting with the same token goes on from there (per-client mode).")
        .value("client-queue", "BYTES", "serve (broadcast): disconnect a client with more than this queued.", "16777216");
    cli::add_standard_options(parser);
    return parser;
}

}  // namespace harness::replayer
