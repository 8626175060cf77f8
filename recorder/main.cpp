// dialpad-record: records a live Dialpad event stream into a SQLite archive,
// byte for byte, across token refreshes and hourly disconnects.
#include "core/cli/program.hpp"
#include "core/cli/secret_source.hpp"
#include "core/clock/virtual_clock.hpp"
#include "core/log/log.hpp"
#include "core/redact/redactor.hpp"
#include "core/cli/duration_text.hpp"
#include "recorder/recorder.hpp"
#include "recorder/command_line.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <unistd.h>

#include <charconv>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace {

using harness::cli::usage_error;

std::chrono::nanoseconds duration_option(harness::cli::parsed_args const& args, char const* name,
                                         std::string const& fallback) {
    auto const text = args.value(name).value_or(fallback);
    auto const value = harness::cli::parse_duration(text);
    if (!value) throw usage_error{std::string{"--"} + name + " must be a duration such as 2h, 90m, 30s or 250ms, not '" + text + "'"};
    return *value;
}

std::int64_t whole_number(char const* name, std::string const& text) {
    std::int64_t value = 0;
    auto const [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc{} || end != text.data() + text.size() || value <= 0)
        throw usage_error{std::string{"--"} + name + " must be a whole number above 0, not '" + text + "'"};
    return value;
}

// The key from a file (first line) or DIALPAD_API_KEY; never from argv.
std::string read_api_key(harness::cli::parsed_args const& args) {
    if (auto key = harness::cli::read_secret(args, "api-key-file", "DIALPAD_API_KEY")) return *key;
    throw usage_error{"no API key: set DIALPAD_API_KEY or give --api-key-file (keys are never taken from the command line)"};
}

}  // namespace

int main(int argc, char** argv) {
    using namespace harness;
    auto parser = recorder::make_command_line();

    return cli::run_program(argc, argv, parser, [&](cli::parsed_args const& args) {
        recorder::recorder_config config;
        auto const out = args.value("out");
        if (!out) throw usage_error{"--out ARCHIVE is required"};
        config.archive_path = *out;
        config.session_name = args.value("session-name").value_or("recording");
        config.api_base = args.value("api-base").value_or("https://sandbox.dialpad.com");
        int const sources = int(args.has("create")) + int(args.value("websocket-id").has_value()) +
                            int(args.value("url").has_value());
        if (sources != 1) throw usage_error{"give exactly one of --create, --websocket-id ID, --url WS_URL"};
        if (args.has("create")) {
            config.mode = recorder::source_mode::create;
            for (auto const& spec : args.values("subscribe"))
                config.subscriptions.push_back(recorder::parse_subscription_spec(spec));
        } else if (!args.values("subscribe").empty()) {
            throw usage_error{"--subscribe goes with --create"};
        }
        if (auto const id = args.value("websocket-id")) {
            config.mode = recorder::source_mode::websocket_id;
            config.websocket_id = whole_number("websocket-id", *id);
        }
        if (auto const url = args.value("url")) {
            if (!url->starts_with("ws://") && !url->starts_with("wss://"))
                throw usage_error{"--url must be a ws:// or wss:// URL"};
            config.mode = recorder::source_mode::url;
            config.url = *url;
        }
        if (config.mode != recorder::source_mode::url) config.api_key = read_api_key(args);
        cli::refuse_secret_on_command_line(args, "secret", "secret-file", cli::k_secret_env);
        if (auto secret = cli::read_secret(args, "secret-file", cli::k_secret_env)) config.secret = std::move(*secret);
        if (args.value("duration")) config.duration = duration_option(args, "duration", "");
        if (auto const n = args.value("max-events")) config.max_events = static_cast<std::uint64_t>(whole_number("max-events", *n));
        config.durability_window =
            std::chrono::duration_cast<std::chrono::milliseconds>(duration_option(args, "durability-window", "100ms"));
        config.refresh_lead = duration_option(args, "refresh-lead", "2m");
        config.overlap = duration_option(args, "overlap", "20s");
        config.connection_ttl = duration_option(args, "connection-ttl", "1h");
        if (args.has("insecure")) {
            config.tls.verify_tls = false;
            HLOG(warn, "record.insecure").field("note", "TLS certificates are not verified (--insecure)");
        }
        if (auto const ca = args.value("ca-file")) config.tls.ca_file = *ca;
        if (args.has("redact")) {
            auto const rules = redact::parse_redact_rules(args.value("redact-rules").value_or("all"));
            if (!rules) throw usage_error{"--redact-rules is all, or a comma list of phones, emails, names"};
            config.redactor = std::make_shared<redact::redactor const>(redact::redactor::with_random_key(*rules));
        }
        config.status_on_terminal = ::isatty(STDERR_FILENO) == 1;

        auto const clock_name = args.value("clock").value_or("system");
        double scale = 1;
        if (auto const text = args.value("time-scale")) {
            auto const [end, error] = std::from_chars(text->data(), text->data() + text->size(), scale);
            if (error != std::errc{} || end != text->data() + text->size() || !(scale > 0 && scale <= virtual_clock::k_max_scale))
                throw usage_error{"--time-scale must be a number above 0, at most 1e6"};
        }
        if (clock_name != "system" && clock_name != "virtual") throw usage_error{"--clock is system or virtual"};
        system_clock_source real_time;
        virtual_clock scaled{scale};
        harness::clock& time = clock_name == "virtual" ? static_cast<harness::clock&>(scaled) : static_cast<harness::clock&>(real_time);

        net::io_context ioc{1};
        recorder::recorder rec{ioc.get_executor(), std::move(config), time};
        boost::asio::signal_set signals{ioc, SIGINT, SIGTERM};
        signals.async_wait([&](boost::system::error_code ec, int) {
            if (!ec) rec.stop();
        });
        int code = cli::exit_failure;
        std::exception_ptr failure;
        net::co_spawn(ioc, rec.run(), [&](std::exception_ptr error, int result) {
            failure = error;
            code = result;
            signals.cancel();
        });
        ioc.run();
        if (failure) std::rethrow_exception(failure);
        return code;
    });
}
