// dialpad-replay: the archive's command-line tool (list, show, export,
// import, verify, redact) and the replay server (serve).
#include "core/archive/archive.hpp"
#include "core/archive/frame_reader.hpp"
#include "core/jwt/jwt.hpp"
#include "core/cli/duration_text.hpp"
#include "core/cli/program.hpp"
#include "core/cli/secret_source.hpp"
#include "core/clock/clock.hpp"
#include "core/log/log.hpp"
#include "core/redact/redactor.hpp"
#include "core/replay/replay_speed.hpp"
#include "replayer/archive_tool.hpp"
#include "replayer/filter_expression.hpp"
#include "replayer/replay_server.hpp"
#include "replayer/command_line.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <nlohmann/json.hpp>

#include <unistd.h>

#include <charconv>
#include <csignal>
#include <filesystem>

#include <cstdio>
#include <fstream>
#include <iostream>
#include <string_view>
#include <vector>

namespace {

using harness::cli::usage_error;


// A JSON Lines file is served through a temporary archive, removed at exit.
struct served_archive {
    std::string path;
    bool temporary = false;
    ~served_archive() {
        if (temporary) {
            std::error_code ignored;
            for (auto const* suffix : {"", "-wal", "-shm"}) std::filesystem::remove(path + suffix, ignored);
        }
    }
};

int serve(std::vector<std::string> const& positional, harness::cli::parsed_args const& args);

std::string const& argument(std::vector<std::string> const& positional, std::size_t i, char const* what) {
    if (i >= positional.size()) throw usage_error{std::string{"missing "} + what};
    return positional[i];
}

}  // namespace

int main(int argc, char** argv) {
    using namespace harness;
    // -o is the one short option, as in most archive tools.
    std::vector<char const*> arguments(argv, argv + argc);
    for (auto& a : arguments)
        if (std::string_view{a} == "-o") a = "--output";

    auto parser = replayer::make_command_line();

    return cli::run_program(static_cast<int>(arguments.size()), arguments.data(), parser, [&](cli::parsed_args const& args) {
        cli::refuse_secret_on_command_line(args, "secret", "secret-file", cli::k_secret_env);
        auto const& positional = args.positional();
        if (positional.empty()) throw usage_error{"give a command: serve, list, show, export, import, verify or redact"};
        auto const& command = positional[0];
        auto const expect_at_most = [&](std::size_t n) {
            if (positional.size() > n) throw usage_error{"too many arguments for '" + command + "'"};
        };
        if (command == "serve") return serve(positional, args);
        if (command == "list") {
            expect_at_most(2);
            replayer::list_sessions(argument(positional, 1, "ARCHIVE"), std::cout);
        } else if (command == "show") {
            expect_at_most(3);
            auto const session = positional.size() > 2 ? positional[2] : args.value("session").value_or("");
            replayer::show_session(argument(positional, 1, "ARCHIVE"), session, std::cout);
        } else if (command == "export") {
            expect_at_most(2);
            auto const& archive_path = argument(positional, 1, "ARCHIVE");
            auto const session = args.value("session").value_or("");
            if (auto const file = args.value("output")) {
                std::ofstream out{*file, std::ios::binary | std::ios::trunc};
                if (!out) throw std::runtime_error{*file + ": cannot be written"};
                replayer::export_session_jsonl(archive_path, session, out);
                out.flush();
                if (!out) throw std::runtime_error{*file + ": writing failed"};
            } else {
                replayer::export_session_jsonl(archive_path, session, std::cout);
            }
        } else if (command == "import") {
            expect_at_most(2);
            auto const file = args.value("output");
            if (!file) throw usage_error{"import needs -o ARCHIVE"};
            auto const id = replayer::import_session_jsonl(argument(positional, 1, "FILE.jsonl"), *file);
            std::printf("imported session %lld into %s\n", static_cast<long long>(id), file->c_str());
        } else if (command == "verify") {
            expect_at_most(2);
            return replayer::verify_archive(argument(positional, 1, "ARCHIVE"), std::cout) ? cli::exit_ok
                                                                                         : cli::exit_failure;
        } else if (command == "redact") {
            expect_at_most(2);
            auto const file = args.value("output");
            if (!file) throw usage_error{"redact needs -o OUT"};
            auto const rules = redact::parse_redact_rules(args.value("redact-rules").value_or("all"));
            if (!rules) throw usage_error{"--redact-rules is all, or a comma list of phones, emails, names"};
            replayer::redact_archive(argument(positional, 1, "ARCHIVE"), *file,
                                     cli::read_secret(args, "secret-file", cli::k_secret_env), *rules);
            std::printf("redacted copy written to %s\n", file->c_str());
        } else {
            throw usage_error{"unknown command '" + command + "' (serve, list, show, export, import, verify, redact)"};
        }
        return cli::exit_ok;
    });
}

namespace {

std::int64_t positive(char const* name, std::string const& text) {
    std::int64_t value = 0;
    auto const [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc{} || end != text.data() + text.size() || value < 0)
        throw usage_error{std::string{"--"} + name + " must be a whole number, not '" + text + "'"};
    return value;
}

int serve(std::vector<std::string> const& positional, harness::cli::parsed_args const& args) {
    using namespace harness;
    if (positional.size() > 2) throw usage_error{"too many arguments for 'serve'"};
    auto const& input = argument(positional, 1, "ARCHIVE");
    replayer::replay_options options;
    try {
        options.speed = replay::parse_speed(args.value("speed").value_or("1"));
    } catch (std::invalid_argument const& e) {
        throw usage_error{std::string{"--"} + e.what()};
    }
    if (auto const gap = args.value("max-gap")) {
        options.max_gap = cli::parse_duration(*gap);
        if (!options.max_gap) throw usage_error{"--max-gap must be a duration such as 5s or 250ms, not '" + *gap + "'"};
    }
    options.loops = static_cast<int>(positive("loop", args.value("loop").value_or("1")));
    if (options.loops < 1) throw usage_error{"--loop must be at least 1"};
    options.require_token = args.value("require-token");
    if (auto const n = args.value("wait-clients")) options.wait_clients = static_cast<std::size_t>(positive("wait-clients", *n));
    options.rebase_time = args.has("rebase-time");
    cli::refuse_secret_on_command_line(args, "sign-secret", "secret-file", cli::k_secret_env);
    if (args.has("sign")) {
        options.sign_secret = cli::read_secret(args, "secret-file", cli::k_secret_env);
        if (!options.sign_secret) throw usage_error{"--sign needs the secret: set DIALPAD_WEBSOCKET_SECRET or give --secret-file"};
    }
    auto const mode = args.value("mode").value_or("per-client");
    if (mode == "broadcast")
        options.mode = replayer::replay_mode::broadcast;
    else if (mode != "per-client")
        throw usage_error{"--mode must be per-client or broadcast, not '" + mode + "'"};
    try {
        options.filter = replayer::parse_filter_expressions(args.values("filter"));
    } catch (std::invalid_argument const& e) {
        throw usage_error{e.what()};
    }
    options.replay_closes = args.has("replay-closes");
    if (auto const limit = args.value("client-queue"))
        options.client_queue_limit = static_cast<std::size_t>(positive("client-queue", *limit));
    auto const port = positive("port", args.value("port").value_or("8090"));
    if (port > 65535) throw usage_error{"--port must be from 0 to 65535"};
    std::optional<std::size_t> exit_after;
    if (auto const n = args.value("exit-after")) exit_after = static_cast<std::size_t>(positive("exit-after", *n));

    served_archive served;
    if (input.ends_with(".jsonl")) {
        served.path = (std::filesystem::temp_directory_path() / ("dialpad-replay-" + std::to_string(::getpid()) + ".db")).string();
        served.temporary = true;
        replayer::import_session_jsonl(input, served.path);
    } else {
        served.path = input;
    }
    {
        archive::archive store{served.path, archive::open_mode::read_only};
        options.session = store.resolve_session(args.value("session").value_or("")).id;
    }
    if (options.rebase_time && !options.sign_secret) {
        // Signed frames cannot be changed without a secret to sign them again.
        archive::frame_reader reader{served.path, options.session,
                                     archive::frame_filter{.kinds = {archive::frame_kind::event}}, 1};
        if (auto const first = reader.next(); first && jwt::looks_like_jwt(first->text))
            throw usage_error{"the session holds signed (JWT) frames: --rebase-time needs --sign to re-sign them"};
    }
    options.archive_path = served.path;

    net::io_context ioc{1};
    system_clock_source time;
    web::server_options server_options;
    server_options.host = args.value("host").value_or("127.0.0.1");
    server_options.port = static_cast<std::uint16_t>(port);
    replayer::replay_server server{ioc.get_executor(), server_options, options, time};
    server.start();
    nlohmann::ordered_json ready;
    ready["ready"] = true;
    ready["ws"] = "ws://" + server_options.host + ":" + std::to_string(server.port()) + "/events/";
    ready["session"] = options.session;
    std::printf("%s\n", ready.dump().c_str());
    std::fflush(stdout);

    boost::asio::signal_set signals{ioc, SIGINT, SIGTERM};
    bool stopped = false;
    auto const finish = [&] {
        if (stopped) return;
        stopped = true;
        signals.cancel();
        server.stop();
    };
    signals.async_wait([&](boost::system::error_code ec, int) {
        if (!ec) finish();
    });
    if (exit_after)
        server.on_client_finished([&] {
            if (server.clients_finished() >= *exit_after) finish();
        });
    ioc.run();

    auto const report = server.report().dump(2) + "\n";
    if (auto const file = args.value("report")) {
        std::ofstream out{*file, std::ios::trunc};
        out << report;
        if (!out) throw std::runtime_error{*file + ": the report could not be written"};
    } else {
        std::fputs(report.c_str(), stderr);
    }
    return cli::exit_ok;
}

}  // namespace
