// core/web's websocket layer: the HTTP server hands upgrades to a session,
// ws_connection::connect talks to it; refusals, closes and aborts as a client
// sees them.

#include "core/net/spawn.hpp"
#include "core/web/http_server.hpp"
#include "core/web/ws_connection.hpp"

#include <doctest/doctest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>

#include <future>

namespace net = boost::asio;
using namespace harness;
using namespace std::chrono_literals;

namespace {

// An echo server on 127.0.0.1:0 that refuses /no and closes on "bye".
struct echo_server {
    net::io_context ioc;
    web::server server{ioc.get_executor(), web::server_options{},
                       [](web::request&) { return web::response::json(404, "{}"); }};
    std::thread thread;

    echo_server() {
        server.on_upgrade([](web::request const& request) {
            web::upgrade_decision decision;
            if (request.path == "/no") {
                decision.refusal = web::response::json(401, R"({"error":"no"})");
                return decision;
            }
            decision.session = [](web::ws_connection ws) -> net::awaitable<void> {
                for (;;) {
                    auto message = co_await ws.read();
                    if (!message) co_return;
                    if (*message == "bye") {
                        co_await ws.close(4000, "asked to");
                        co_return;
                    }
                    if (*message == "drop") {
                        ws.abort();
                        co_return;
                    }
                    auto reply = std::make_shared<std::string const>("echo:" + *message);
                    co_await ws.write(reply);
                }
            };
            return decision;
        });
        server.start();
        thread = std::thread{[this] { ioc.run(); }};
    }
    ~echo_server() {
        net::post(ioc, [this] { server.stop(); });
        thread.join();
    }
    std::string url(std::string const& path) const { return "ws://127.0.0.1:" + std::to_string(server.port()) + path; }
};

// Runs a client coroutine on its own io_context, bounded in time.
template <class F>
auto run_client(F body) {
    net::io_context ioc;
    auto done = net::co_spawn(ioc, body(), net::use_future);
    ioc.run_for(20s);
    REQUIRE(done.wait_for(0s) == std::future_status::ready);
    return done.get();
}

}  // namespace

TEST_CASE("web::ws_connection: messages both ways, then a close with code and reason") {
    echo_server server;
    auto const url = server.url("/events/x");
    auto const result = run_client([url]() -> net::awaitable<std::pair<std::string, web::close_status>> {
        auto ws = co_await web::ws_connection::connect(url, {});
        auto hello = std::make_shared<std::string const>("hello \xe2\x98\x95");
        co_await ws.write(hello);
        auto reply = co_await ws.read();
        auto bye = std::make_shared<std::string const>("bye");
        co_await ws.write(bye);
        auto end = co_await ws.read();
        CHECK_FALSE(end.has_value());
        co_return std::pair{reply.value_or(""), ws.peer_close()};
    });
    CHECK(result.first == "echo:hello \xe2\x98\x95");
    CHECK(result.second.code == 4000);
    CHECK(result.second.reason == "asked to");
    CHECK_FALSE(result.second.abrupt);
}

TEST_CASE("web::ws_connection: an abort looks abrupt to the client") {
    echo_server server;
    auto const url = server.url("/");
    auto const status = run_client([url]() -> net::awaitable<web::close_status> {
        auto ws = co_await web::ws_connection::connect(url, {});
        auto drop = std::make_shared<std::string const>("drop");
        co_await ws.write(drop);
        auto end = co_await ws.read();
        CHECK_FALSE(end.has_value());
        co_return ws.peer_close();
    });
    CHECK(status.abrupt);
    CHECK_FALSE(status.code.has_value());
}

TEST_CASE("web::ws_connection: a refused upgrade reports the status and body") {
    echo_server server;
    auto const url = server.url("/no");
    auto const refusal = run_client([url]() -> net::awaitable<std::pair<int, std::string>> {
        try {
            auto ws = co_await web::ws_connection::connect(url, {});
        } catch (web::ws_refused const& e) {
            co_return std::pair{e.status(), e.body()};
        }
        co_return std::pair{0, std::string{}};
    });
    CHECK(refusal.first == 401);
    CHECK(refusal.second == R"({"error":"no"})");
}

TEST_CASE("web::ws_connection: stopping the server ends open websockets") {
    auto server = std::make_unique<echo_server>();
    auto const url = server->url("/");
    std::promise<void> connected;
    auto connected_future = connected.get_future();
    net::io_context ioc;
    auto done = net::co_spawn(
        ioc,
        [&]() -> net::awaitable<bool> {
            auto ws = co_await web::ws_connection::connect(url, {});
            connected.set_value();
            auto end = co_await ws.read();
            co_return !end.has_value();
        },
        net::use_future);
    std::thread client{[&] { ioc.run_for(20s); }};
    connected_future.wait();
    server.reset();  // stop() aborts the session; the client sees the end
    client.join();
    REQUIRE(done.wait_for(0s) == std::future_status::ready);
    CHECK(done.get());
}
