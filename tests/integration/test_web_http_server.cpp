// core/web's HTTP server as a socket sees it: how a connection ends after an
// answer that leaves the client's bytes unread.

#include "core/web/http_client.hpp"
#include "core/web/http_server.hpp"

#include <doctest/doctest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>

#include <string>
#include <thread>

namespace net = boost::asio;
using tcp = net::ip::tcp;
using namespace harness;
using namespace std::chrono_literals;

namespace {

// A server on 127.0.0.1:0 with a 1 KiB body limit that answers 200 "ok".
struct small_body_server {
    net::io_context ioc;
    web::server server;
    std::thread thread;

    explicit small_body_server(std::chrono::milliseconds linger_time)
        : server{ioc.get_executor(), options(linger_time), [](web::request&) { return web::response::json(200, "{}"); }} {
        server.start();
        thread = std::thread{[this] { ioc.run(); }};
    }
    ~small_body_server() {
        net::post(ioc, [this] { server.stop(); });
        thread.join();
    }
    static web::server_options options(std::chrono::milliseconds linger_time) {
        web::server_options o;
        o.body_limit = 1024;
        o.linger_time = linger_time;
        return o;
    }
    std::string url() const { return "http://127.0.0.1:" + std::to_string(server.port()) + "/upload"; }
};

}  // namespace

TEST_CASE("web::server: a client still sending a body refused with 413 reads the 413") {
    // 32 MiB is far more than the socket buffers between the two hold, so
    // the client is still writing when the answer comes. Closed at once,
    // the server's socket would reset the connection under it.
    small_body_server server{5s};
    std::string const body(32 << 20, 'x');
    auto const answer = web::fetch("POST", server.url(), {{"Content-Type", "application/octet-stream"}}, body);
    CHECK(answer.status == 413);
    CHECK(answer.body.find("1024 bytes") != std::string::npos);
}

TEST_CASE("web::server: a client that goes on sending after its answer is cut off after linger_time") {
    small_body_server server{200ms};
    net::io_context ioc;
    tcp::socket socket{ioc};
    socket.connect({net::ip::make_address("127.0.0.1"), server.server.port()});
    std::string const header =
        "POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000000\r\n\r\n";
    net::write(socket, net::buffer(header));
    std::string received;
    net::read_until(socket, net::dynamic_buffer(received), "\r\n\r\n");
    CHECK(received.starts_with("HTTP/1.1 413"));

    // Sending forever: the server drops what comes for linger_time, then
    // closes, and a write fails. The cap only keeps a broken server from
    // hanging the test (2 GiB at loopback speed is many seconds).
    std::string const chunk(64 << 10, 'x');
    boost::system::error_code ec;
    std::size_t sent = 0;
    while (!ec && sent < (std::size_t{2} << 30)) sent += net::write(socket, net::buffer(chunk), ec);
    CHECK(ec);
}
