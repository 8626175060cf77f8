#include "core/cli/option_parser.hpp"

#include <algorithm>
#include <sstream>

namespace harness::cli {

bool parsed_args::has(std::string_view name) const { return options_.find(name) != options_.end(); }

std::optional<std::string> parsed_args::value(std::string_view name) const {
    auto const it = options_.find(name);
    if (it == options_.end() || it->second.empty()) return std::nullopt;
    return it->second.back();
}

std::vector<std::string> parsed_args::values(std::string_view name) const {
    auto const it = options_.find(name);
    return it == options_.end() ? std::vector<std::string>{} : it->second;
}

option_parser::option_parser(std::string program, std::string usage, std::string summary)
    : program_{std::move(program)}, usage_{std::move(usage)}, summary_{std::move(summary)} {}

option_parser& option_parser::flag(std::string name, std::string help) {
    options_.push_back({std::move(name), {}, std::move(help), {}, false});
    return *this;
}

option_parser& option_parser::value(std::string name, std::string value_name, std::string help,
                                    std::string default_text) {
    options_.push_back({std::move(name), std::move(value_name), std::move(help), std::move(default_text), false});
    return *this;
}

option_parser& option_parser::repeated(std::string name, std::string value_name, std::string help) {
    options_.push_back({std::move(name), std::move(value_name), std::move(help), {}, true});
    return *this;
}

option_parser& option_parser::positional(std::string name, std::string help, std::size_t max) {
    positional_name_ = std::move(name);
    positional_help_ = std::move(help);
    positional_max_ = max;
    return *this;
}

option_parser::option const* option_parser::find(std::string_view name) const {
    auto const it = std::find_if(options_.begin(), options_.end(), [&](option const& o) { return o.name == name; });
    return it == options_.end() ? nullptr : &*it;
}

parsed_args option_parser::parse(std::span<char const* const> arguments) const {
    parsed_args result;
    bool options_ended = false;
    for (std::size_t i = 0; i < arguments.size(); ++i) {
        std::string_view const argument{arguments[i] ? arguments[i] : ""};
        if (options_ended || argument == "-" || !argument.starts_with("-")) {
            if (result.positional_.size() >= positional_max_)
                throw usage_error{positional_max_ == 0
                                      ? "unexpected argument '" + std::string{argument} + "'"
                                      : "too many arguments at '" + std::string{argument} + "'"};
            result.positional_.emplace_back(argument);
            continue;
        }
        if (argument == "--") {
            options_ended = true;
            continue;
        }
        if (!argument.starts_with("--"))
            throw usage_error{"unknown option '" + std::string{argument} + "' (options are long: --name)"};

        auto const body = argument.substr(2);
        auto const equals = body.find('=');
        auto const name = body.substr(0, equals);
        auto const* spec = find(name);
        if (!spec) throw usage_error{"unknown option '--" + std::string{name} + "'"};

        auto& slot = result.options_[spec->name];
        if (spec->value_name.empty()) {
            if (equals != std::string_view::npos)
                throw usage_error{"option '--" + spec->name + "' takes no value"};
            slot.clear();
            slot.emplace_back();
            continue;
        }
        std::string value;
        if (equals != std::string_view::npos) {
            value = std::string{body.substr(equals + 1)};
        } else {
            if (i + 1 >= arguments.size() || !arguments[i + 1])
                throw usage_error{"option '--" + spec->name + "' needs a value (" + spec->value_name + ")"};
            value = arguments[++i];
        }
        if (!spec->repeatable) slot.clear();
        slot.push_back(std::move(value));
    }
    return result;
}

std::string option_parser::help() const {
    std::ostringstream out;
    out << "Usage: " << program_ << ' ' << usage_ << "\n\n" << summary_ << "\n";
    if (!positional_name_.empty()) out << "\nArguments:\n  " << positional_name_ << "\n      " << positional_help_ << '\n';
    out << "\nOptions:\n";
    for (auto const& o : options_) {
        out << "  --" << o.name;
        if (!o.value_name.empty()) out << ' ' << o.value_name;
        if (o.repeatable) out << " (repeatable)";
        out << "\n      " << o.help;
        if (!o.default_text.empty()) out << " (default: " << o.default_text << ')';
        out << '\n';
    }
    return out.str();
}

}  // namespace harness::cli
