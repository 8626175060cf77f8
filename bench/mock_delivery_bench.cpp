// Event delivery: how fast dialpad-mock gets injected ~1 KB events to N
// connected clients (admin injection -> routing -> per-connection queues ->
// websocket), against a bare websocket broadcast of the same bytes over the
// same transport (no routing, no JSON, no journal) measured in the same run.
// The clients live in a separate consumer process that reports when it has
// received everything.
//
//   build/release/bench/mock_delivery_bench [--events E] [--clients 1,10,100] [--rounds R]

#include "core/cli/program.hpp"
#include "core/clock/virtual_clock.hpp"
#include "core/log/log.hpp"
#include "core/net/spawn.hpp"
#include "core/web/http_client.hpp"
#include "core/web/http_server.hpp"
#include "core/web/ws_connection.hpp"
#include "mockserver/mock_server.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <nlohmann/json.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <sstream>
#include <thread>

using namespace harness;
using steady = std::chrono::steady_clock;

namespace {

// --- the consumer process -------------------------------------------------

std::string read_line(int fd) {
    std::string line;
    char c = 0;
    while (::read(fd, &c, 1) == 1 && c != '\n') line += c;
    return line;
}

void write_line(int fd, std::string const& line) {
    auto const text = line + "\n";
    if (::write(fd, text.data(), text.size()) != static_cast<ssize_t>(text.size())) _exit(3);
}

net::awaitable<void> consume(std::string url, std::size_t* received, std::size_t total, int report_fd,
                             std::size_t* connected, std::size_t clients) {
    auto ws = co_await web::ws_connection::connect(url, {});
    if (++*connected == clients) write_line(report_fd, "ready");
    for (;;) {
        auto message = co_await ws.read();
        if (!message) co_return;
        if (++*received == total) {
            write_line(report_fd, "done");
            ws.abort();
        }
    }
}

// Commands: "URL CLIENTS TOTAL" -> connect, "ready", count, "done".
[[noreturn]] void consumer_main(int command_fd, int report_fd) {
    for (;;) {
        std::istringstream command{read_line(command_fd)};
        std::string url;
        std::size_t clients = 0, total = 0;
        if (!(command >> url >> clients >> total)) _exit(0);
        net::io_context ioc{1};
        std::size_t received = 0, connected = 0;
        for (std::size_t i = 0; i < clients; ++i)
            net::co_spawn(ioc, consume(url, &received, total, report_fd, &connected, clients), [](std::exception_ptr) {});
        // Run until everything arrived, then let the other connections go.
        while (received < total && !ioc.stopped()) ioc.run_one();
        ioc.stop();
    }
}

// --- the producer side ----------------------------------------------------

std::string make_event(std::size_t i) {
    nlohmann::ordered_json e;
    e["call_id"] = 5823519046647808 + static_cast<std::int64_t>(i);
    e["state"] = "ringing";
    e["direction"] = "inbound";
    e["external_number"] = "+14155550142";
    e["target"] = {{"id", 5100000000000001}, {"type", "user"}, {"name", "Avery Kim"}};
    e["custom_data"] = std::string(820, 'x');
    e["event_timestamp"] = 1767225601250 + static_cast<std::int64_t>(i);
    return e.dump();
}

struct consumer {
    int command_fd, report_fd;
    void start(std::string const& url, std::size_t clients, std::size_t total) const {
        write_line(command_fd, url + " " + std::to_string(clients) + " " + std::to_string(total));
        if (read_line(report_fd) != "ready") throw std::runtime_error{"the consumer could not connect"};
    }
    void wait_done() const {
        if (read_line(report_fd) != "done") throw std::runtime_error{"the consumer stopped early"};
    }
};

// Frames per second through dialpad-mock.
double run_mock(consumer const& c, std::vector<std::string> const& events, std::size_t clients) {
    net::io_context ioc{1};
    virtual_clock time{0.0};
    mock::mock_options options;
    options.port = 0;
    options.feed.queue_limit = events.size() + 1;
    mock::mock_server server{ioc.get_executor(), options, time, &time};
    auto const endpoints = server.start();
    std::thread thread{[&] { ioc.run(); }};
    web::header_map const auth{{"Authorization", "Bearer dev-key"}};
    auto const ws = nlohmann::json::parse(web::fetch("POST", endpoints.http + "/api/v2/websockets", auth, "{}").body);
    web::fetch("POST", endpoints.http + "/api/v2/subscriptions/call", auth,
               R"({"endpoint_id":")" + ws["id"].get<std::string>() + "\"}");
    c.start(ws["websocket_url"].get<std::string>(), clients, clients * events.size());
    web::fetch("GET", endpoints.http + "/__admin/health");  // the connections are registered by now

    // The batches are built before the clock starts: injection cost is the mock's.
    std::vector<std::string> batches;
    for (std::size_t i = 0; i < events.size(); i += 500) {
        nlohmann::json batch{{"events", nlohmann::json::array()}};
        for (std::size_t j = i; j < std::min(events.size(), i + 500); ++j)
            batch["events"].push_back({{"type", "call"}, {"raw", events[j]}});
        batches.push_back(batch.dump());
    }
    auto const start = steady::now();
    for (auto const& batch : batches) web::fetch("POST", endpoints.http + "/__admin/events", {}, batch);
    c.wait_done();
    auto const seconds = std::chrono::duration<double>(steady::now() - start).count();
    net::post(ioc, [&] { server.stop(); });
    thread.join();
    return double(clients * events.size()) / seconds;
}

// The baseline: every client gets the same frames as fast as the transport takes them.
double run_baseline(consumer const& c, std::vector<std::string> const& events, std::size_t clients) {
    net::io_context ioc{1};
    std::vector<std::shared_ptr<std::string const>> frames;
    for (auto const& e : events) frames.push_back(std::make_shared<std::string const>(e));
    net::steady_timer go{ioc, net::steady_timer::time_point::max()};
    web::server server{ioc.get_executor(), web::server_options{}, [](web::request&) { return web::response{}; }};
    server.on_upgrade([&](web::request const&) {
        web::upgrade_decision d;
        d.session = [&](web::ws_connection ws) -> net::awaitable<void> {
            auto [ec] = co_await go.async_wait(net::as_tuple(net::use_awaitable));
            (void)ec;
            for (auto const& frame : frames) co_await ws.write(frame);
            auto end = co_await ws.read();  // until the consumer hangs up
            (void)end;
        };
        return d;
    });
    server.start();
    std::thread thread{[&] { ioc.run(); }};
    c.start("ws://127.0.0.1:" + std::to_string(server.port()) + "/", clients, clients * events.size());
    auto const start = steady::now();
    net::post(ioc, [&] { go.cancel(); });
    c.wait_done();
    auto const seconds = std::chrono::duration<double>(steady::now() - start).count();
    net::post(ioc, [&] { server.stop(); });
    thread.join();
    return double(clients * events.size()) / seconds;
}

double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
    // The consumer is forked before any thread exists.
    int commands[2], reports[2];
    if (::pipe(commands) != 0 || ::pipe(reports) != 0) return 1;
    pid_t const child = ::fork();
    if (child == 0) {
        ::close(commands[1]);
        ::close(reports[0]);
        consumer_main(commands[0], reports[1]);
    }
    ::close(commands[0]);
    ::close(reports[1]);
    consumer const c{commands[1], reports[0]};

    cli::option_parser parser{"mock_delivery_bench", "[options]",
                              "Measures dialpad-mock's event delivery against a bare websocket broadcast."};
    cli::add_standard_options(parser);
    parser.value("events", "E", "Events per run.", "20000")
        .value("clients", "LIST", "Client counts to measure, comma separated.", "1,10,100")
        .value("rounds", "R", "Runs of each (medians reported).", "3");
    auto const code = cli::run_program(argc, argv, parser, [&](cli::parsed_args const& args) {
        log_config quiet;
        quiet.level = log_level::warn;
        configure_logging(quiet);
        auto const count = std::stoul(args.value("events").value_or("20000"));
        auto const rounds = std::stoul(args.value("rounds").value_or("3"));
        std::vector<std::size_t> client_counts;
        std::istringstream list{args.value("clients").value_or("1,10,100")};
        for (std::string item; std::getline(list, item, ',');) client_counts.push_back(std::stoul(item));
        std::vector<std::string> events;
        for (std::size_t i = 0; i < count; ++i) events.push_back(make_event(i));
        std::printf("%zu events of %zu bytes\n", count, events[0].size());
        for (auto const clients : client_counts) {
            std::vector<double> mock_rates, base_rates, ratios;
            for (std::size_t r = 0; r < rounds; ++r) {
                double m = 0, b = 0;
                if (r % 2 == 0) {
                    m = run_mock(c, events, clients);
                    b = run_baseline(c, events, clients);
                } else {
                    b = run_baseline(c, events, clients);
                    m = run_mock(c, events, clients);
                }
                mock_rates.push_back(m);
                base_rates.push_back(b);
                ratios.push_back(m / b);
            }
            std::printf("%4zu clients: mock %9.0f frames/s, bare broadcast %9.0f frames/s, median ratio %.2f\n",
                        clients, median(mock_rates), median(base_rates), median(ratios));
            std::fflush(stdout);
        }
        return 0;
    });
    ::close(commands[1]);  // the consumer exits on end of input
    ::waitpid(child, nullptr, 0);
    return code;
}
