#pragma once
// An HTTP/1.1 server on Beast: one coroutine per connection, keep-alive, a
// body limit, timeouts that stop a slow or silent client from holding a
// connection forever, and optional TLS (https on the same port when a
// certificate is given). Requests go to one synchronous handler on the
// server's executor; an upgrade handler can take websocket requests over.
//
// Single-threaded: run the io_context on one thread; call stop() on it.

#include "core/net/asio_fwd.hpp"
#include "core/web/http_message.hpp"
#include "core/web/ws_connection.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace harness::web {

struct server_options {
    std::string host = "127.0.0.1";
    std::uint16_t port = 0;  // 0: the system picks a free port
    std::optional<std::string> tls_certificate_file;  // PEM; with the key, serves TLS only
    std::optional<std::string> tls_private_key_file;
    std::size_t body_limit = 1 << 20;  // larger bodies get 413
    // Paths under `large_body_prefix` (e.g. a test-control API taking event
    // batches) may send up to `large_body_limit` instead.
    std::string large_body_prefix;
    std::size_t large_body_limit = 0;
    std::size_t header_limit = 16 << 10;
    // To read one whole request, counted from the first byte awaited: a
    // slow-drip or silent client is dropped after it. Keep-alive
    // connections idle for this long are closed too.
    std::chrono::milliseconds request_timeout{10'000};
    // After the last answer on a connection, how long to go on reading and
    // dropping what the client still sends (the rest of a refused body)
    // while it reads the answer; see serve_requests().
    std::chrono::milliseconds linger_time{5'000};
    std::size_t max_connections = 20'000;  // beyond this, new connections are closed at once
};

// What to do with a websocket upgrade request: refuse it with an HTTP
// response, or accept it and run `session` on the connection.
struct upgrade_decision {
    std::optional<response> refusal;
    std::function<net::awaitable<void>(ws_connection)> session;
};

class server {
public:
    using request_handler = std::function<response(request&)>;
    // Answers errors the server finds itself (400 malformed, 413 too large,
    // 408 timeout), so they can share the handler's error format.
    using error_responder = std::function<response(int status, std::string const& message)>;

    server(net::any_io_executor executor, server_options options, request_handler handler,
           error_responder on_error = {});
    server(server const&) = delete;
    server& operator=(server const&) = delete;
    ~server();

    // Handles websocket upgrade requests (without one, they are ordinary
    // requests). Set before start().
    using upgrade_handler = std::function<upgrade_decision(request const&)>;
    void on_upgrade(upgrade_handler handler);

    // Binds and starts accepting. Throws std::runtime_error naming the
    // address when it cannot bind or the TLS files cannot be loaded.
    void start();
    // The bound port (after start()).
    std::uint16_t port() const;
    bool uses_tls() const;
    // Stops accepting and closes every open connection.
    void stop();
    std::size_t open_connections() const;

    // What serve_bytes() did with one client's bytes.
    struct offline_exchange {
        std::string written;               // every byte the server wrote back, in order
        std::size_t answered = 0;          // responses written
        bool upgraded = false;             // it went on as a websocket (the session is not run)
        std::size_t handler_failures = 0;  // handlers that threw (each answered 500 and logged)
    };
    // Serves `bytes` as one client's whole side of a connection, without a
    // socket: each request is read, limited and answered by the code that
    // serves a socket, until the server would close the connection or hand
    // it to a websocket session. After each answer, where a connection
    // would wait on its socket and let other work run, `between_requests`
    // is called (to run the executor's ready handlers). For tests and
    // fuzzing; needs no start().
    offline_exchange serve_bytes(std::string_view bytes, std::string const& remote_address = "127.0.0.1",
                                 std::function<void()> const& between_requests = {});

    struct state;  // the implementation's; opaque here

private:
    std::shared_ptr<state> state_;
};

}  // namespace harness::web
