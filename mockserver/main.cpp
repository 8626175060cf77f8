// dialpad-mock: emulates Dialpad's REST API for event subscriptions and its
// token-bearing event websocket, with an admin API for tests.
#include "core/cli/duration_text.hpp"
#include "core/cli/program.hpp"
#include "core/cli/secret_source.hpp"
#include "core/clock/virtual_clock.hpp"
#include "core/log/log.hpp"
#include "core/net/spawn.hpp"
#include "core/replay/replay_speed.hpp"
#include "mockserver/api_keys.hpp"
#include "mockserver/fixture_library.hpp"
#include "mockserver/mock_server.hpp"
#include "mockserver/start_guide.hpp"
#include "mockserver/command_line.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <csignal>
#include <iostream>
#include <utility>

#include <unistd.h>

namespace {

std::uint16_t parse_port(std::string const& text) {
    unsigned value = 0;
    auto const [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc{} || end != text.data() + text.size() || value > 65535)
        throw harness::cli::usage_error{"--port must be a number from 0 to 65535, not '" + text + "'"};
    return static_cast<std::uint16_t>(value);
}

// ARCHIVE[:SESSION]; the whole text when it names a file, as a path may hold
// a colon; a fixture's name when no file has that name.
std::pair<std::string, std::string> split_replay_spec(std::string const& spec,
                                                      harness::mock::fixture_library const& fixtures) {
    std::error_code ignored;
    auto const colon = spec.rfind(':');
    if (colon == std::string::npos || std::filesystem::exists(spec, ignored)) {
        if (auto const fixture = fixtures.find(spec); fixture && !std::filesystem::exists(spec, ignored))
            return {*fixture, ""};
        return {spec, ""};
    }
    return {spec.substr(0, colon), spec.substr(colon + 1)};
}

// --fixtures, or the clone's fixtures/ when it is there.
std::string fixtures_folder(harness::cli::parsed_args const& args) {
    if (auto const given = args.value("fixtures")) {
        std::error_code error;
        if (!given->empty() && !std::filesystem::is_directory(*given, error))
            throw harness::cli::usage_error{"--fixtures: '" + *given + "' is not a folder"};
        return *given;
    }
    std::error_code error;
    return std::filesystem::is_directory(HARNESS_DEFAULT_FIXTURES_DIR, error) ? HARNESS_DEFAULT_FIXTURES_DIR : "";
}

// --guide auto: only for a person at a terminal, never into a log file.
bool wants_guide(harness::cli::parsed_args const& args) {
    auto const mode = args.value("guide").value_or("auto");
    if (mode != "auto" && mode != "always" && mode != "never")
        throw harness::cli::usage_error{"--guide must be auto, always or never, not '" + mode + "'"};
    return mode == "always" || (mode == "auto" && ::isatty(STDERR_FILENO) == 1);
}

// --replay and its options, checked before the port is bound.
std::optional<std::pair<harness::mock::replay_source, harness::mock::replay_pacing>> replay_plan(
    harness::cli::parsed_args const& args, harness::mock::fixture_library const& fixtures) {
    using harness::cli::usage_error;
    auto const spec = args.value("replay");
    if (!spec) {
        for (auto const* option : {"replay-speed", "replay-max-gap", "replay-rebase-time"})
            if (args.has(option)) throw usage_error{std::string{"--"} + option + " needs --replay"};
        return std::nullopt;
    }
    harness::mock::replay_pacing pacing;
    pacing.rebase_time = args.has("replay-rebase-time");
    if (auto const gap = args.value("replay-max-gap")) {
        pacing.max_gap = harness::cli::parse_duration(*gap);
        if (!pacing.max_gap || pacing.max_gap->count() <= 0)
            throw usage_error{"--replay-max-gap must be a duration such as 5s or 250ms, not '" + *gap + "'"};
    }
    try {
        pacing.speed = harness::replay::parse_speed(args.value("replay-speed").value_or("1"));
    } catch (std::invalid_argument const& e) {
        throw usage_error{std::string{"--replay-speed: "} + e.what()};
    }
    try {
        auto const [archive, session] = split_replay_spec(*spec, fixtures);
        return std::pair{harness::mock::open_replay_source(archive, session), pacing};
    } catch (harness::mock::replay_error const& e) {
        throw usage_error{std::string{"--replay: "} + e.what()};
    }
}

// --api-key values (listed), then the unlisted ones of --api-keys-file or,
// without it, DIALPAD_MOCK_API_KEYS. A bad spec's message names where it
// came from, never the text around it (which may be a key).
std::vector<harness::mock::api_key> api_keys_of(harness::cli::parsed_args const& args) {
    using harness::mock::api_keys;
    std::vector<harness::mock::api_key> keys;
    auto const parse_from = [](std::string const& source, auto parse) {
        try {
            return parse();
        } catch (std::invalid_argument const& e) {
            throw harness::cli::usage_error{source + ": " + e.what()};
        }
    };
    for (auto const& spec : args.values("api-key"))
        keys.push_back(parse_from("--api-key", [&] { return api_keys::parse(spec); }));
    std::optional<harness::cli::secret_text> source;
    try {
        source = harness::cli::read_secret_text(args, "api-keys-file", harness::mock::k_api_keys_env);
    } catch (std::runtime_error const& e) {
        throw harness::cli::usage_error{e.what()};  // a keys file that cannot be read is a bad command line
    }
    if (!source) return keys;
    auto unlisted = parse_from(source->source, [&] { return api_keys::parse_unlisted(source->text); });
    if (unlisted.empty() && source->from_file) throw harness::cli::usage_error{source->source + " holds no key"};
    for (auto& key : unlisted) keys.push_back(std::move(key));
    return keys;
}

std::int64_t parse_positive(char const* option, std::string const& text) {
    std::int64_t value = 0;
    auto const [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc{} || end != text.data() + text.size() || value <= 0)
        throw harness::cli::usage_error{std::string{"--"} + option + " must be a whole number above 0, not '" + text + "'"};
    return value;
}

}  // namespace

int main(int argc, char** argv) {
    using namespace harness;
    auto parser = mock::make_command_line();

    return cli::run_program(argc, argv, parser, [](cli::parsed_args const& args) {
        mock::mock_options options;
        options.host = args.value("host").value_or("127.0.0.1");
        options.port = parse_port(args.value("port").value_or("8088"));
        options.api_keys = api_keys_of(args);
        options.public_url = args.value("public-url");
        options.tls_certificate_file = args.value("tls-cert");
        options.tls_private_key_file = args.value("tls-key");
        if (options.tls_certificate_file.has_value() != options.tls_private_key_file.has_value())
            throw cli::usage_error{"--tls-cert and --tls-key go together"};
        auto const limits = args.value("rate-limits").value_or("off");
        if (limits != "off" && limits != "dialpad")
            throw cli::usage_error{"--rate-limits must be off or dialpad, not '" + limits + "'"};
        options.rate_limits = limits == "dialpad";

        auto const bad_token = args.value("bad-token").value_or("close");
        if (bad_token != "close" && bad_token != "reject" && bad_token != "legacy")
            throw cli::usage_error{"--bad-token must be close, reject or legacy, not '" + bad_token + "'"};
        options.feed.bad_token = bad_token == "close"    ? mock::bad_token_mode::close
                                 : bad_token == "reject" ? mock::bad_token_mode::reject
                                                         : mock::bad_token_mode::legacy;
        options.feed.connection_ttl = std::chrono::seconds{parse_positive("connection-ttl", args.value("connection-ttl").value_or("3600"))};
        auto const cut = args.value("hour-cut").value_or("abrupt");
        if (cut != "abrupt" && cut != "close-frame")
            throw cli::usage_error{"--hour-cut must be abrupt or close-frame, not '" + cut + "'"};
        options.feed.hour_cut = cut == "abrupt" ? mock::hour_cut_style::abrupt : mock::hour_cut_style::close_frame;
        auto const fanout = args.value("fanout").value_or("all");
        if (fanout != "all" && fanout != "newest")
            throw cli::usage_error{"--fanout must be all or newest, not '" + fanout + "'"};
        options.feed.fanout = fanout == "all" ? mock::fanout_mode::all : mock::fanout_mode::newest;
        options.feed.queue_limit = static_cast<std::size_t>(parse_positive("queue-limit", args.value("queue-limit").value_or("4096")));

        options.seed = static_cast<std::uint64_t>(parse_positive("seed", args.value("seed").value_or("1")));

        auto const clock_kind = args.value("clock").value_or("system");
        if (clock_kind != "system" && clock_kind != "virtual")
            throw cli::usage_error{"--clock must be system or virtual, not '" + clock_kind + "'"};
        double scale = 1.0;
        if (auto const text = args.value("time-scale")) {
            if (clock_kind != "virtual") throw cli::usage_error{"--time-scale needs --clock virtual"};
            char* end = nullptr;
            scale = std::strtod(text->c_str(), &end);
            if (text->empty() || *end != '\0' || !(scale >= 0 && scale <= virtual_clock::k_max_scale))
                throw cli::usage_error{"--time-scale must be a number from 0 to 1e6, not '" + *text + "'"};
        }
        std::optional<virtual_clock> steerable;
        if (clock_kind == "virtual") steerable.emplace(scale);
        harness::clock& time_source = steerable ? static_cast<harness::clock&>(*steerable) : system_clock_instance();

        options.admin_token = cli::read_secret(args, "admin-token-file", "DIALPAD_MOCK_ADMIN_TOKEN");
        options.expose_admin = args.has("expose-admin");
        if (options.expose_admin && !options.admin_token)
            throw cli::usage_error{"--expose-admin needs an admin token: set DIALPAD_MOCK_ADMIN_TOKEN or give "
                                   "--admin-token-file"};
        options.fixtures_dir = fixtures_folder(args);
        mock::fixture_library const fixtures{options.fixtures_dir};
        auto replay = replay_plan(args, fixtures);
        bool const guide = wants_guide(args);

        net::io_context ioc{1};
        mock::mock_server server{ioc.get_executor(), options, time_source, steerable ? &*steerable : nullptr};
        if (replay) server.replay_on_first_connection(std::move(replay->first), replay->second);
        auto const endpoints = server.start();
        std::cout << endpoints.ready_line() << std::endl;
        if (guide) std::cerr << mock::start_guide(endpoints, fixtures.list()) << std::endl;

        net::signal_set signals{ioc, SIGINT, SIGTERM};
        signals.async_wait([&](boost::system::error_code const& ec, int signal) {
            if (ec) return;
            HLOG(info, "mock.stopping").field("signal", signal);
            server.stop();
        });
        ioc.run();
        return cli::exit_ok;
    });
}
