// dialpad-mock: emulates Dialpad's REST API for event subscriptions and its
// token-bearing event websocket, with an admin API for tests.
#include "core/cli/program.hpp"
#include "core/log/log.hpp"
#include "core/net/spawn.hpp"
#include "mockserver/mock_server.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <charconv>
#include <csignal>
#include <iostream>

namespace {

std::uint16_t parse_port(std::string const& text) {
    unsigned value = 0;
    auto const [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc{} || end != text.data() + text.size() || value > 65535)
        throw harness::cli::usage_error{"--port must be a number from 0 to 65535, not '" + text + "'"};
    return static_cast<std::uint16_t>(value);
}

}  // namespace

int main(int argc, char** argv) {
    using namespace harness;
    cli::option_parser parser{
        "dialpad-mock", "[options]",
        "Emulates Dialpad's REST API for event subscriptions (websockets, webhooks, call/sms/contact/\n"
        "agent_status/changelog subscriptions) on 127.0.0.1, so a client runs its real set-up flow with\n"
        "no credentials. When ready it prints one JSON line on stdout with its URLs; logs go to stderr."};
    parser.value("host", "ADDRESS", "Address to listen on.", "127.0.0.1")
        .value("port", "PORT", "Port to listen on; 0 picks a free one.", "8088")
        .repeated("api-key", "KEY[@COMPANY]",
                  "An API key the mock accepts, and the company it belongs to (default company: 'default'). "
                  "Without any, the key 'dev-key' is accepted.")
        .value("public-url", "URL", "Base URL clients reach the mock by, used in websocket_url values.")
        .value("tls-cert", "FILE", "PEM certificate: serve https and wss on the port (with --tls-key).")
        .value("tls-key", "FILE", "PEM private key for --tls-cert.")
        .value("rate-limits", "off|dialpad", "Apply Dialpad's documented rate limits (429 when exceeded).", "off");
    cli::add_standard_options(parser);

    return cli::run_program(argc, argv, parser, [](cli::parsed_args const& args) {
        mock::mock_options options;
        options.host = args.value("host").value_or("127.0.0.1");
        options.port = parse_port(args.value("port").value_or("8088"));
        for (auto const& spec : args.values("api-key")) {
            try {
                options.api_keys.push_back(mock::api_keys::parse(spec));
            } catch (std::invalid_argument const& e) {
                throw cli::usage_error{e.what()};
            }
        }
        options.public_url = args.value("public-url");
        options.tls_certificate_file = args.value("tls-cert");
        options.tls_private_key_file = args.value("tls-key");
        if (options.tls_certificate_file.has_value() != options.tls_private_key_file.has_value())
            throw cli::usage_error{"--tls-cert and --tls-key go together"};
        auto const limits = args.value("rate-limits").value_or("off");
        if (limits != "off" && limits != "dialpad")
            throw cli::usage_error{"--rate-limits must be off or dialpad, not '" + limits + "'"};
        options.rate_limits = limits == "dialpad";

        net::io_context ioc{1};
        mock::mock_server server{ioc.get_executor(), options, system_clock_instance()};
        auto const endpoints = server.start();
        std::cout << endpoints.ready_line() << std::endl;

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
