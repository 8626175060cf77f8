#pragma once
// Secrets (API keys, websocket signing secrets) come from an environment
// variable or a file, never from the command line, where `ps`, /proc and
// shell history would keep them.

#include "core/cli/option_parser.hpp"

#include <optional>
#include <string>

namespace harness::cli {

// The environment variable every program reads a websocket signing secret from.
inline constexpr char const* k_secret_env = "DIALPAD_WEBSOCKET_SECRET";

// A secret's whole text and where it came from.
struct secret_text {
    std::string text;
    std::string source;  // "--FILE_OPTION PATH" or the variable's name, for messages
    bool from_file = false;
};

// The whole file named by option `file_option`, else the non-empty variable
// `env_var`, else nullopt. A file that cannot be read throws
// std::runtime_error.
std::optional<secret_text> read_secret_text(parsed_args const& args, char const* file_option, char const* env_var);

// As read_secret_text, but of a file only its first line (trailing
// whitespace dropped): one secret. A file whose first line is empty throws
// std::runtime_error too.
std::optional<std::string> read_secret(parsed_args const& args, char const* file_option, char const* env_var);

// Throws usage_error when `option` was given on the command line: it names
// where the secret goes instead.
void refuse_secret_on_command_line(parsed_args const& args, char const* option, char const* file_option,
                                   char const* env_var);

}  // namespace harness::cli
