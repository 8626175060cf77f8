#pragma once
// The command line of dialpad-replay: its commands, options and their help (main.cpp acts on them).
// A function of its own so the fuzz target for command lines
// (fuzz/fuzz_cli.cpp) parses with the very table the program uses.

#include "core/cli/option_parser.hpp"

namespace harness::replayer {

cli::option_parser make_command_line();

}  // namespace harness::replayer
