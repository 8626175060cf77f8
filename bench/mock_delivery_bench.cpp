// Event delivery: how fast dialpad-mock gets injected ~1 KB events to N
// connected clients (admin injection -> routing -> per-connection queues ->
// websocket), against a bare Beast websocket broadcast server measured in the
// same run. The baseline is fed the same events the same way (HTTP POST
// batches, here newline-separated, so no JSON) and sends every one to every
// client from a per-connection queue: no routing, no JSON, no journal. A
// third figure, the same frames sent from memory with no intake at all, is
// printed as the transport's ceiling. The clients live in a separate consumer
// process that reports when it has received everything.
//
//   build/release/bench/mock_delivery_bench [--events E] [--clients 1,10,100] [--rounds R]

#include "core/cli/program.hpp"
#include "core/clock/virtual_clock.hpp"
#include "core/log/log.hpp"
#include "core/net/spawn.hpp"
#include "core/web/http_client.hpp"
#include "core/web/http_server.hpp"
#include "core/web/ws_connection.hpp"
#include "bench/support/bench_mock.hpp"

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
#include <deque>
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
double run_mock(consumer const& c, std::vector<std::string> const& batches, std::size_t event_count, std::size_t clients) {
    bench::bench_mock mock{event_count + 1};
    auto const& endpoints = mock.endpoints();
    web::header_map const auth{{"Authorization", "Bearer dev-key"}};
    auto const ws = nlohmann::json::parse(web::fetch("POST", endpoints.http + "/api/v2/websockets", auth, "{}").body);
    web::fetch("POST", endpoints.http + "/api/v2/subscriptions/call", auth,
               R"({"endpoint_id":")" + ws["id"].get<std::string>() + "\"}");
    c.start(ws["websocket_url"].get<std::string>(), clients, clients * event_count);
    web::fetch("GET", endpoints.http + "/__admin/health");  // the connections are registered by now

    auto const start = steady::now();
    for (auto const& batch : batches) web::fetch("POST", endpoints.http + "/__admin/events", {}, batch);
    c.wait_done();
    auto const seconds = std::chrono::duration<double>(steady::now() - start).count();
    return double(clients * event_count) / seconds;
}

// A bare broadcast server: POST a newline-separated batch, every connection
// gets every line as one text frame, each connection from its own queue.
struct bare_client {
    std::deque<std::shared_ptr<std::string const>> queue;
    net::steady_timer wake;
    bool stopping = false;
};

net::awaitable<void> bare_session(std::shared_ptr<bare_client> client, web::ws_connection ws) {
    for (;;) {
        while (client->queue.empty()) {
            if (client->stopping) co_return;
            client->wake.expires_at(net::steady_timer::time_point::max());
            auto [ec] = co_await client->wake.async_wait(net::as_tuple(net::use_awaitable));
            (void)ec;
        }
        auto frame = std::move(client->queue.front());
        client->queue.pop_front();
        try {
            co_await ws.write(frame);
        } catch (boost::system::system_error const&) {
            co_return;  // the consumer hung up
        }
    }
}

double run_baseline(consumer const& c, std::vector<std::string> const& batches, std::size_t event_count,
                    std::size_t clients) {
    net::io_context ioc{1};
    std::vector<std::shared_ptr<bare_client>> sessions;
    web::server_options options;
    options.body_limit = 64u << 20;
    web::server server{ioc.get_executor(), options, [&](web::request& request) {
                           std::string_view body{request.body};
                           while (!body.empty()) {
                               auto const end = std::min(body.find('\n'), body.size());
                               auto frame = std::make_shared<std::string const>(body.substr(0, end));
                               for (auto& session : sessions) {
                                   session->queue.push_back(frame);
                                   session->wake.cancel();
                               }
                               body.remove_prefix(std::min(end + 1, body.size()));
                           }
                           return web::response::json(200, "{}");
                       }};
    server.on_upgrade([&](web::request const&) {
        web::upgrade_decision d;
        d.session = [&ioc, &sessions](web::ws_connection ws) {
            auto client = std::make_shared<bare_client>(bare_client{{}, net::steady_timer{ioc}, false});
            sessions.push_back(client);
            return bare_session(client, std::move(ws));
        };
        return d;
    });
    server.start();
    std::thread thread{[&] { ioc.run(); }};
    auto const base = "http://127.0.0.1:" + std::to_string(server.port());
    c.start("ws://127.0.0.1:" + std::to_string(server.port()) + "/", clients, clients * event_count);
    web::fetch("GET", base + "/");  // the connections are registered by now
    auto const start = steady::now();
    for (auto const& batch : batches) web::fetch("POST", base + "/", {}, batch);
    c.wait_done();
    auto const seconds = std::chrono::duration<double>(steady::now() - start).count();
    net::post(ioc, [&] {
        for (auto& session : sessions) {
            session->stopping = true;
            session->wake.cancel();
        }
        server.stop();
    });
    thread.join();
    return double(clients * event_count) / seconds;
}

// The transport's ceiling: every client gets the frames from memory, no intake.
net::awaitable<void> send_from_memory(net::steady_timer* go, bool const* started,
                                      std::vector<std::shared_ptr<std::string const>> const* frames,
                                      web::ws_connection ws) {
    if (!*started) {  // a session set up after the start goes at once
        auto [ec] = co_await go->async_wait(net::as_tuple(net::use_awaitable));
        (void)ec;
    }
    for (auto const& frame : *frames) co_await ws.write(frame);
    auto end = co_await ws.read();  // until the consumer hangs up
    (void)end;
}

double run_from_memory(consumer const& c, std::vector<std::string> const& events, std::size_t clients) {
    net::io_context ioc{1};
    std::vector<std::shared_ptr<std::string const>> frames;
    for (auto const& e : events) frames.push_back(std::make_shared<std::string const>(e));
    net::steady_timer go{ioc, net::steady_timer::time_point::max()};
    bool started = false;
    web::server server{ioc.get_executor(), web::server_options{}, [](web::request&) { return web::response{}; }};
    server.on_upgrade([&](web::request const&) {
        web::upgrade_decision d;
        d.session = [&go, &started, &frames](web::ws_connection ws) {
            return send_from_memory(&go, &started, &frames, std::move(ws));
        };
        return d;
    });
    server.start();
    std::thread thread{[&] { ioc.run(); }};
    c.start("ws://127.0.0.1:" + std::to_string(server.port()) + "/", clients, clients * events.size());
    auto const start = steady::now();
    net::post(ioc, [&] {
        started = true;
        go.cancel();
    });
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
        // Both servers get the events in POSTs of 500, built before any clock starts.
        std::vector<std::string> mock_batches, bare_batches;
        for (std::size_t i = 0; i < events.size(); i += 500) {
            nlohmann::json batch{{"events", nlohmann::json::array()}};
            std::string lines;
            for (std::size_t j = i; j < std::min(events.size(), i + 500); ++j) {
                batch["events"].push_back({{"type", "call"}, {"raw", events[j]}});
                lines.append(events[j]).push_back('\n');
            }
            mock_batches.push_back(batch.dump());
            bare_batches.push_back(std::move(lines));
        }
        std::printf("%zu events of %zu bytes, injected in POSTs of 500\n", count, events[0].size());
        for (auto const clients : client_counts) {
            std::vector<double> mock_rates, base_rates, memory_rates, ratios;
            for (std::size_t r = 0; r < rounds; ++r) {
                double m = 0, b = 0;
                if (r % 2 == 0) {
                    m = run_mock(c, mock_batches, count, clients);
                    b = run_baseline(c, bare_batches, count, clients);
                } else {
                    b = run_baseline(c, bare_batches, count, clients);
                    m = run_mock(c, mock_batches, count, clients);
                }
                memory_rates.push_back(run_from_memory(c, events, clients));
                mock_rates.push_back(m);
                base_rates.push_back(b);
                ratios.push_back(m / b);
            }
            std::printf("%4zu clients: mock %9.0f frames/s, bare broadcast %9.0f frames/s, median ratio %.2f"
                        " (sent from memory: %9.0f frames/s)\n",
                        clients, median(mock_rates), median(base_rates), median(ratios), median(memory_rates));
            std::fflush(stdout);
        }
        return 0;
    });
    ::close(commands[1]);  // the consumer exits on end of input
    ::waitpid(child, nullptr, 0);
    return code;
}
