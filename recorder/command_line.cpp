#include "recorder/command_line.hpp"

#include "core/cli/program.hpp"

#include <string>

namespace harness::recorder {

cli::option_parser make_command_line() {
    cli::option_parser parser{
        "dialpad-record", "--out ARCHIVE.db (--create | --websocket-id ID | --url WS_URL) [options]",
        "Records a live Dialpad event stream into a SQLite archive, byte for byte, across token refreshes and\n"
        "hourly disconnects. The API key comes from DIALPAD_API_KEY or --api-key-file, never from argv."};
    parser.value("out", "ARCHIVE", "The archive to append a session to (created when missing).")
        .value("api-base", "URL", "Dialpad's API.", "https://sandbox.dialpad.com")
        .value("api-key-file", "FILE", "Read the API key from this file instead of DIALPAD_API_KEY.")
        .value("session-name", "NAME", "Name of the recorded session.", "recording")
        .flag("create", "Create a websocket (and the --subscribe subscriptions) and record it.")
        .value("websocket-id", "ID", "Record an existing websocket.")
        .value("url", "WS_URL", "Record this wss://…/events/<token> URL as is (no refresh: ends at the cut).")
        .value("secret-file", "FILE",
               "Read the websocket's signing secret from this file instead of DIALPAD_WEBSOCKET_SECRET: set on "
               "--create, used to verify JWT frames. Never taken from the command line.")
        .value("secret", "S", "Refused: set DIALPAD_WEBSOCKET_SECRET or give --secret-file.")
        .repeated("subscribe", "KIND[:OPTIONS]",
                  "With --create: call:all, call:ringing,hangup, sms:inbound[,internal][,status], contact:shared, "
                  "agent_status, changelog.")
        .value("duration", "D", "Stop after this long (2h, 90m, 30s).")
        .value("max-events", "N", "Stop after this many frames.")
        .value("durability-window", "D", "Most time a received frame waits before it is committed.", "100ms")
        .flag("redact", "Pseudonymise phone numbers, emails and names before anything is written.")
        .value("redact-rules", "LIST", "What --redact replaces: all, or a list of phones, emails, names.", "all")
        .flag("insecure", "Do not verify TLS certificates (a warning is logged).")
        .value("ca-file", "FILE", "Trust this PEM bundle instead of the system store.")
        .value("refresh-lead", "D", "Open the next connection this long before the token expires or the cut.", "2m")
        .value("overlap", "D", "Keep the old connection this long after the next one opened.", "20s")
        .value("connection-ttl", "D", "When the service cuts a connection (Dialpad: 1h after it opened).", "1h")
        .value("clock", "system|virtual", "Time for refreshes and --duration; virtual runs at --time-scale.", "system")
        .value("time-scale", "N", "With --clock virtual: N times real time, as a mock on a scaled clock.", "1");
    cli::add_standard_options(parser);
    return parser;
}

}  // namespace harness::recorder
