#include "core/cli/secret_source.hpp"

#include <cstdlib>
#include <fstream>
#include <stdexcept>

namespace harness::cli {

std::optional<std::string> read_secret(parsed_args const& args, char const* file_option, char const* env_var) {
    if (auto const file = args.value(file_option)) {
        std::ifstream in{*file};
        if (!in) throw std::runtime_error{std::string{"cannot read --"} + file_option + " " + *file};
        std::string secret;
        std::getline(in, secret);
        while (!secret.empty() && (secret.back() == '\r' || secret.back() == ' ' || secret.back() == '\t'))
            secret.pop_back();
        if (secret.empty()) throw std::runtime_error{std::string{"--"} + file_option + " " + *file + " is empty"};
        return secret;
    }
    if (char const* value = std::getenv(env_var); value && *value) return std::string{value};
    return std::nullopt;
}

void refuse_secret_on_command_line(parsed_args const& args, char const* option, char const* file_option,
                                   char const* env_var) {
    if (!args.value(option) && !args.has(option)) return;
    throw usage_error{std::string{"--"} + option + " is refused: secrets never go on the command line; set " +
                      env_var + " or give --" + file_option + " FILE"};
}

}  // namespace harness::cli
