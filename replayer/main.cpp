// dialpad-replay: the archive's command-line tool (list, show, export,
// import, verify, redact) and, in time, the replay server.
#include "core/cli/program.hpp"
#include "core/redact/redactor.hpp"
#include "replayer/archive_tool.hpp"

#include <cstdio>
#include <fstream>
#include <iostream>
#include <string_view>
#include <vector>

namespace {

using harness::cli::usage_error;

constexpr char const* k_commands =
    "Commands:\n"
    "  list ARCHIVE                          the sessions in an archive\n"
    "  show ARCHIVE [SESSION]                connections, gaps, event counts per family and state\n"
    "  export ARCHIVE [--session S] [-o F]   a session as JSON Lines (stdout without -o)\n"
    "  import FILE.jsonl -o ARCHIVE          a JSON Lines session into an archive\n"
    "  verify ARCHIVE                        integrity, schema and counts (exit 1 when damaged)\n"
    "  redact ARCHIVE -o OUT [--secret S]    a copy with phones, emails and names pseudonymised\n"
    "SESSION is a numeric id or a name; without one, the only or latest session.";

std::string const& argument(std::vector<std::string> const& positional, std::size_t i, char const* what) {
    if (i >= positional.size()) throw usage_error{std::string{"missing "} + what};
    return positional[i];
}

}  // namespace

int main(int argc, char** argv) {
    using namespace harness;
    // -o is the one short option, as in most archive tools.
    std::vector<char const*> arguments(argv, argv + argc);
    for (auto& a : arguments)
        if (std::string_view{a} == "-o") a = "--output";

    cli::option_parser parser{"dialpad-replay", "COMMAND ARGUMENTS [options]",
                              std::string{"Streams archived Dialpad event sessions to the code under test, and manages "
                                          "archives.\n\n"} +
                                  k_commands};
    parser.positional("COMMAND ARGUMENTS", "the command and its arguments (above)", 3)
        .value("session", "S", "The session: a numeric id or a name (default: the only or latest).")
        .value("output", "FILE", "Where export, import and redact write (-o for short).")
        .value("secret", "S", "redact: the websocket secret, to re-sign JWT frames.")
        .value("redact-rules", "LIST", "redact: all, or a comma list of phones, emails, names.", "all");
    cli::add_standard_options(parser);

    return cli::run_program(static_cast<int>(arguments.size()), arguments.data(), parser, [&](cli::parsed_args const& args) {
        auto const& positional = args.positional();
        if (positional.empty()) throw usage_error{"give a command: list, show, export, import, verify or redact"};
        auto const& command = positional[0];
        auto const expect_at_most = [&](std::size_t n) {
            if (positional.size() > n) throw usage_error{"too many arguments for '" + command + "'"};
        };
        if (command == "list") {
            expect_at_most(2);
            replayer::list_sessions(argument(positional, 1, "ARCHIVE"), std::cout);
        } else if (command == "show") {
            expect_at_most(3);
            auto const session = positional.size() > 2 ? positional[2] : args.value("session").value_or("");
            replayer::show_session(argument(positional, 1, "ARCHIVE"), session, std::cout);
        } else if (command == "export") {
            expect_at_most(2);
            auto const& archive_path = argument(positional, 1, "ARCHIVE");
            auto const session = args.value("session").value_or("");
            if (auto const file = args.value("output")) {
                std::ofstream out{*file, std::ios::binary | std::ios::trunc};
                if (!out) throw std::runtime_error{*file + ": cannot be written"};
                replayer::export_session_jsonl(archive_path, session, out);
                out.flush();
                if (!out) throw std::runtime_error{*file + ": writing failed"};
            } else {
                replayer::export_session_jsonl(archive_path, session, std::cout);
            }
        } else if (command == "import") {
            expect_at_most(2);
            auto const file = args.value("output");
            if (!file) throw usage_error{"import needs -o ARCHIVE"};
            auto const id = replayer::import_session_jsonl(argument(positional, 1, "FILE.jsonl"), *file);
            std::printf("imported session %lld into %s\n", static_cast<long long>(id), file->c_str());
        } else if (command == "verify") {
            expect_at_most(2);
            return replayer::verify_archive(argument(positional, 1, "ARCHIVE"), std::cout) ? cli::exit_ok
                                                                                         : cli::exit_failure;
        } else if (command == "redact") {
            expect_at_most(2);
            auto const file = args.value("output");
            if (!file) throw usage_error{"redact needs -o OUT"};
            auto const rules = redact::parse_redact_rules(args.value("redact-rules").value_or("all"));
            if (!rules) throw usage_error{"--redact-rules is all, or a comma list of phones, emails, names"};
            replayer::redact_archive(argument(positional, 1, "ARCHIVE"), *file, args.value("secret"), *rules);
            std::printf("redacted copy written to %s\n", file->c_str());
        } else {
            throw usage_error{"unknown command '" + command + "' (list, show, export, import, verify, redact)"};
        }
        return cli::exit_ok;
    });
}
