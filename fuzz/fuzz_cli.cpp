// Command lines (core/cli/option_parser) and the value parsers the programs
// apply to them: durations (core/cli/duration_text), --subscribe
// (recorder/subscription_spec), --api-key and keys lists, --replay-speed/--speed,
// --redact-rules, --log-level/--log-format and --filter.
//
// Input: the first line names the program whose option table is used
// (dialpad-mock, dialpad-record or dialpad-replay; anything else picks one
// by length), each further line is one argument, parsed with the program's
// own table (its make_command_line()). A bad command line is refused with
// usage_error and a message (the programs' exit 2); the value parsers
// refuse with their documented exception or nullopt. Anything else is a
// finding.

#include "core/cli/duration_text.hpp"
#include "core/cli/option_parser.hpp"
#include "core/cli/program.hpp"
#include "core/log/log.hpp"
#include "core/redact/redactor.hpp"
#include "core/replay/replay_speed.hpp"
#include "fuzz/fuzz_support.hpp"
#include "mockserver/api_keys.hpp"
#include "mockserver/command_line.hpp"
#include "recorder/command_line.hpp"
#include "recorder/subscription_spec.hpp"
#include "replayer/command_line.hpp"
#include "replayer/filter_expression.hpp"

#include <nlohmann/json.hpp>

#include <array>
#include <stdexcept>

using namespace harness;

namespace {

std::array<cli::option_parser, 3> const& parsers() {
    static std::array<cli::option_parser, 3> const tables{mock::make_command_line(), recorder::make_command_line(),
                                                          replayer::make_command_line()};
    return tables;
}

void check_duration(std::string const& text) {
    auto const duration = cli::parse_duration(text);
    if (duration && duration->count() < 0) fuzz::finding("a duration came out negative");
}

void check_subscription(std::string const& text) {
    try {
        auto const spec = recorder::parse_subscription_spec(text);
        auto const body = nlohmann::json::parse("{" + spec.body_json + "}", nullptr, false);
        if (!body.is_object()) fuzz::finding("a --subscribe body is not the inside of a JSON object");
    } catch (cli::usage_error const& e) {
        if (std::string_view{e.what()}.empty()) fuzz::finding("a refused --subscribe has no message");
    }
}

void check_values(cli::parsed_args const& args) {
    for (auto const* name : {"duration", "durability-window", "refresh-lead", "overlap", "replay-max-gap", "max-gap"})
        if (auto const text = args.value(name)) check_duration(*text);
    // The recorder's --connection-ttl is a duration; the mock's is seconds.
    if (auto const text = args.value("connection-ttl")) check_duration(*text);
    for (auto const& spec : args.values("subscribe")) check_subscription(spec);
    for (auto const& spec : args.values("api-key")) {
        try {
            auto const key = mock::api_keys::parse(spec);
            if (key.key.empty() || key.company.empty()) fuzz::finding("an --api-key without key or company passed");
        } catch (std::invalid_argument const&) {
        }
        // The same text as DIALPAD_MOCK_API_KEYS or an --api-keys-file holds it.
        try {
            for (auto const& key : mock::api_keys::parse_unlisted(spec)) {
                if (key.key.empty() || key.company.empty() || key.listed)
                    fuzz::finding("a keys list gave an empty or listed key");
                if (key.key.find_first_of(", \t\r\n#") != std::string::npos)
                    fuzz::finding("a keys list gave a key holding a separator");
            }
        } catch (std::invalid_argument const&) {
        }
    }
    for (auto const* name : {"replay-speed", "speed"}) {
        if (auto const text = args.value(name)) {
            try {
                auto const speed = replay::parse_speed(*text);
                if (speed && !(*speed > 0)) fuzz::finding("a speed of 0 or less passed");
                if (speed) (void)replay::paced_offset(std::chrono::hours{24 * 365 * 200}, *speed);
            } catch (std::invalid_argument const&) {
            }
        }
    }
    if (auto const text = args.value("redact-rules")) (void)redact::parse_redact_rules(*text);
    if (auto const text = args.value("log-level")) (void)parse_log_level(*text);
    if (auto const text = args.value("log-format")) (void)parse_log_format(*text);
    try {
        (void)replayer::parse_filter_expressions(args.values("filter"));
    } catch (std::invalid_argument const&) {
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(std::uint8_t const* data, std::size_t size) {
    auto lines = fuzz::lines_of(fuzz::as_text(data, size));
    std::size_t table = size % 3;
    if (!lines.empty()) {
        for (std::size_t i = 0; i < parsers().size(); ++i)
            if (lines.front() == parsers()[i].program()) table = i;
        lines.erase(lines.begin());
    }
    auto const& parser = parsers()[table];
    std::vector<char const*> argv;
    for (auto const& line : lines) {
        // dialpad-replay's one short option, rewritten before parsing as its main() does.
        argv.push_back(table == 2 && line == "-o" ? "--output" : line.c_str());
    }
    cli::parsed_args args;
    try {
        args = parser.parse(argv);
    } catch (cli::usage_error const& e) {
        if (std::string_view{e.what()}.empty()) fuzz::finding("a usage error without a message");
        return 0;
    }
    if (args.has("help") && parser.help().empty()) fuzz::finding("empty --help");
    check_values(args);
    return 0;
}
