#pragma once
// The shared outer shell of every program's main(): the standard options
// (--help, --version, --log-level, --log-format), logging set-up, and the
// exit-code contract: 0 ok, 1 failure, 2 usage error. Errors are printed as
// one line on stderr, prefixed with the program name.

#include "core/cli/option_parser.hpp"

#include <functional>

namespace harness::cli {

inline constexpr int exit_ok = 0;
inline constexpr int exit_failure = 1;
inline constexpr int exit_usage = 2;

// Adds --help, --version, --log-level and --log-format to `parser`.
void add_standard_options(option_parser& parser);

// Parses argv with `parser` (which must have the standard options), answers
// --help/--version, configures logging, then returns body(args). A
// usage_error becomes exit 2, any other exception exit 1.
int run_program(int argc, char const* const* argv, option_parser const& parser,
                std::function<int(parsed_args const&)> body);

}  // namespace harness::cli
