#include "core/cli/program.hpp"

#include "core/log/log.hpp"
#include "core/version.hpp"

#include <algorithm>
#include <exception>
#include <iostream>

#include <sys/resource.h>

namespace harness::cli {
namespace {

// The servers hold a descriptor per connection: the usual soft limit of
// 1024 would stop them near a thousand clients though the hard limit allows
// many more. Raised as far as the hard limit (and Linux's usual
// fs.nr_open) allows; failing that, the limit stays as it was.
void raise_open_file_limit() {
    rlimit limit{};
    if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
    auto const wanted = std::min<rlim_t>(limit.rlim_max, rlim_t{1} << 20);
    if (limit.rlim_cur >= wanted) return;
    limit.rlim_cur = wanted;
    ::setrlimit(RLIMIT_NOFILE, &limit);
}

}  // namespace

void add_standard_options(option_parser& parser) {
    parser.flag("help", "Print this help and exit.")
        .flag("version", "Print the version and exit.")
        .value("log-level", "LEVEL", "Log detail on stderr: trace, debug, info, warn, error or off.", "info")
        .value("log-format", "FORMAT", "Log line format: text (for people) or json (one object per line).",
               "text");
}

int run_program(int argc, char const* const* argv, option_parser const& parser,
                std::function<int(parsed_args const&)> body) {
    auto const& program = parser.program();
    try {
        std::span<char const* const> const arguments{argv + (argc > 0 ? 1 : 0),
                                                     static_cast<std::size_t>(argc > 0 ? argc - 1 : 0)};
        auto const args = parser.parse(arguments);
        if (args.has("help")) {
            std::cout << parser.help() << std::flush;
            return exit_ok;
        }
        if (args.has("version")) {
            std::cout << program << ' ' << version() << '\n' << std::flush;
            return exit_ok;
        }
        log_config config;
        config.program = program;
        if (auto const level = args.value("log-level")) {
            auto const parsed = parse_log_level(*level);
            if (!parsed) throw usage_error{"--log-level must be trace, debug, info, warn, error or off, not '" + *level + "'"};
            config.level = *parsed;
        }
        if (auto const format = args.value("log-format")) {
            auto const parsed = parse_log_format(*format);
            if (!parsed) throw usage_error{"--log-format must be text or json, not '" + *format + "'"};
            config.format = *parsed;
        }
        configure_logging(config);
        raise_open_file_limit();
        return body(args);
    } catch (usage_error const& e) {
        std::cerr << program << ": " << e.what() << " (see " << program << " --help)\n";
        return exit_usage;
    } catch (std::exception const& e) {
        std::cerr << program << ": error: " << e.what() << '\n';
        return exit_failure;
    }
}

}  // namespace harness::cli
