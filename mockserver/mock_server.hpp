#pragma once
// dialpad-mock as a library: the REST surface, the admin API and (soon)
// the event websocket, on one port, on one executor. Tests embed it
// in-process; main.cpp wraps it in a command line.

#include "core/clock/virtual_clock.hpp"
#include "core/net/asio_fwd.hpp"
#include "core/web/http_server.hpp"
#include "mockserver/api_keys.hpp"
#include "mockserver/feed_hub.hpp"
#include "mockserver/mock_replay.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace harness::mock {

inline constexpr std::string_view k_default_api_key = "dev-key";

struct mock_options {
    std::string host = "127.0.0.1";
    std::uint16_t port = 8088;  // 0: pick a free one
    std::vector<api_key> api_keys;  // empty: the single key "dev-key"
    // The base URL clients reach the mock by, when it differs from the bound
    // address (a proxy, a container); websocket_url values use it.
    std::optional<std::string> public_url;
    std::optional<std::string> tls_certificate_file;
    std::optional<std::string> tls_private_key_file;
    bool rate_limits = false;  // true: Dialpad's documented limits
    // How long a client may take to send one request before it is dropped.
    std::chrono::milliseconds request_timeout{10'000};
    // Larger admin request bodies get 413 (REST bodies: 1 MiB). Batches of
    // events are the large ones: 32 MiB holds some 25,000 events of 1 KB.
    std::size_t admin_body_limit = 32u << 20;
    feed_options feed;  // the event websocket: bad tokens, the hourly cut, fan-out
    std::uint64_t seed = 1;  // scenarios asked for without a seed use this one
    std::string fixtures_dir;  // sessions offered by name to POST /__admin/replay; empty: none
    std::optional<std::string> admin_token;  // set: admin requests need `Authorization: Bearer <token>`
    bool expose_admin = false;               // admin API for non-loopback clients too (needs admin_token)
};

// Where a started mock can be reached; what the ready line prints.
struct mock_endpoints {
    std::string http;   // http(s)://host:port
    std::string ws;     // ws(s)://host:port/events/
    std::string admin;  // http(s)://host:port/__admin
    std::vector<std::string> api_keys;
    std::uint16_t port = 0;
    // {"ready":true,"http":...,"ws":...,"admin":...,"api_keys":[...]}
    std::string ready_line() const;
};

class mock_server {
public:
    // `steerable` is the virtual clock the admin API may move (usually the
    // same object as `time_source`); null when running on the system clock.
    mock_server(net::any_io_executor executor, mock_options options, clock& time_source,
                virtual_clock* steerable = nullptr);
    ~mock_server();

    // Binds and starts serving; throws std::runtime_error when it cannot.
    mock_endpoints start();
    // Plays `source` once the first event websocket connects: a client
    // creates its subscriptions before it connects, so none of the session
    // is skipped for want of them (`--replay`). Call before start().
    void replay_on_first_connection(replay_source source, replay_pacing pacing);
    // Stops accepting and closes every connection. Call on the executor.
    void stop();
    // Answers one client's raw bytes as a connection to the mock would be
    // answered, without a socket (web::server::serve_bytes); after start().
    // For tests and fuzzing.
    web::server::offline_exchange serve_bytes(std::string_view bytes, std::string const& remote_address = "127.0.0.1",
                                              std::function<void()> const& between_requests = {});

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace harness::mock
