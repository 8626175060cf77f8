// dialpad-record: Records a live Dialpad event stream into a SQLite archive, byte for byte, across token refreshes and hourly disconnects.
#include "core/cli/program.hpp"

#include <cstdio>

int main(int argc, char** argv) {
    harness::cli::option_parser parser{
        "dialpad-record", "[options]",
        "Records a live Dialpad event stream into a SQLite archive, byte for byte, across token refreshes and hourly disconnects."};
    harness::cli::add_standard_options(parser);
    return harness::cli::run_program(argc, argv, parser, [&](harness::cli::parsed_args const&) {
        std::fputs(parser.help().c_str(), stdout);
        return harness::cli::exit_ok;
    });
}
