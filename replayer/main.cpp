// dialpad-replay: Streams archived Dialpad event sessions to the code under test over websockets, at any speed, to one client or thousands.
#include "core/cli/program.hpp"

#include <cstdio>

int main(int argc, char** argv) {
    harness::cli::option_parser parser{
        "dialpad-replay", "[options]",
        "Streams archived Dialpad event sessions to the code under test over websockets, at any speed, to one client or thousands."};
    harness::cli::add_standard_options(parser);
    return harness::cli::run_program(argc, argv, parser, [&](harness::cli::parsed_args const&) {
        std::fputs(parser.help().c_str(), stdout);
        return harness::cli::exit_ok;
    });
}
