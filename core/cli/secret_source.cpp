#include "core/cli/secret_source.hpp"

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <stdexcept>

namespace harness::cli {

std::optional<secret_text> read_secret_text(parsed_args const& args, char const* file_option, char const* env_var) {
    if (auto const file = args.value(file_option)) {
        std::ifstream in{*file};
        if (!in) throw std::runtime_error{std::string{"cannot read --"} + file_option + " " + *file};
        return secret_text{std::string{std::istreambuf_iterator<char>{in}, {}}, std::string{"--"} + file_option + " " + *file,
                           true};
    }
    if (char const* value = std::getenv(env_var); value && *value) return secret_text{value, env_var, false};
    return std::nullopt;
}

std::optional<std::string> read_secret(parsed_args const& args, char const* file_option, char const* env_var) {
    auto source = read_secret_text(args, file_option, env_var);
    if (!source) return std::nullopt;
    if (!source->from_file) return std::move(source->text);
    auto secret = std::move(source->text);
    secret.erase(std::find(secret.begin(), secret.end(), '\n'), secret.end());
    while (!secret.empty() && (secret.back() == '\r' || secret.back() == ' ' || secret.back() == '\t'))
        secret.pop_back();
    if (secret.empty()) throw std::runtime_error{source->source + " is empty"};
    return secret;
}

void refuse_secret_on_command_line(parsed_args const& args, char const* option, char const* file_option,
                                   char const* env_var) {
    if (!args.value(option) && !args.has(option)) return;
    throw usage_error{std::string{"--"} + option + " is refused: secrets never go on the command line; set " +
                      env_var + " or give --" + file_option + " FILE"};
}

}  // namespace harness::cli
