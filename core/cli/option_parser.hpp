#pragma once
// Long-option command lines shared by the three programs: `--name value`,
// `--name=value`, flags, repeatable options, positional arguments and `--`.
// Declared options double as the --help text, so the two never drift.

#include <map>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace harness::cli {

// A mistake in the command line: printed as one line, exit code 2.
class usage_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// What a command line said, by option name (without the leading dashes).
class parsed_args {
public:
    bool has(std::string_view name) const;
    // The last value given for `name`, if any.
    std::optional<std::string> value(std::string_view name) const;
    // Every value given for a repeatable option, in order.
    std::vector<std::string> values(std::string_view name) const;
    std::vector<std::string> const& positional() const { return positional_; }

private:
    friend class option_parser;
    std::map<std::string, std::vector<std::string>, std::less<>> options_;
    std::vector<std::string> positional_;
};

class option_parser {
public:
    // `usage` is the synopsis after the program name, e.g. "[options] ARCHIVE".
    option_parser(std::string program, std::string usage, std::string summary);

    // An option without a value: --name.
    option_parser& flag(std::string name, std::string help);
    // An option with a value: --name VALUE or --name=VALUE. `default_text`
    // only documents the default in --help.
    option_parser& value(std::string name, std::string value_name, std::string help,
                         std::string default_text = {});
    // Like value(), but may be given many times.
    option_parser& repeated(std::string name, std::string value_name, std::string help);
    // Positional arguments, documented as NAME in --help; at most `max`.
    option_parser& positional(std::string name, std::string help, std::size_t max = 1);

    // Throws usage_error naming the offending argument.
    parsed_args parse(std::span<char const* const> arguments) const;
    std::string help() const;
    std::string const& program() const { return program_; }

private:
    struct option {
        std::string name;
        std::string value_name;  // empty for a flag
        std::string help;
        std::string default_text;
        bool repeatable = false;
    };
    option const* find(std::string_view name) const;

    std::string program_;
    std::string usage_;
    std::string summary_;
    std::vector<option> options_;
    std::string positional_name_;
    std::string positional_help_;
    std::size_t positional_max_ = 0;
};

}  // namespace harness::cli
