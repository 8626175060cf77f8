// dialpad-mock: Emulates Dialpad's REST API for event subscriptions and its token-bearing event websocket, with an admin API for tests.
#include "core/cli/program.hpp"

#include <cstdio>

int main(int argc, char** argv) {
    harness::cli::option_parser parser{
        "dialpad-mock", "[options]",
        "Emulates Dialpad's REST API for event subscriptions and its token-bearing event websocket, with an admin API for tests."};
    harness::cli::add_standard_options(parser);
    return harness::cli::run_program(argc, argv, parser, [&](harness::cli::parsed_args const&) {
        std::fputs(parser.help().c_str(), stdout);
        return harness::cli::exit_ok;
    });
}
