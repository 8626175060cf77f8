#pragma once
// A text-message websocket, client or server side, plain or TLS. All Beast
// websocket code lives in ws_connection.cpp; callers see only this.
//
// At most one read() and one write()/close() may be in flight at a time
// (Beast's rule). Pings are answered automatically; the server side also
// pings an idle peer so a dead connection is noticed.

#include "core/net/asio_fwd.hpp"
#include "core/web/http_client.hpp"
#include "core/web/ws_frame.hpp"

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace harness::web {

// How the peer ended the connection.
struct close_status {
    std::optional<int> code;  // absent when the TCP connection just ended
    std::string reason;
    bool abrupt = false;      // no close frame
};

class ws_connection {
public:
    // Opens a client connection to a ws:// or wss:// URL. Throws client_error
    // (one line, naming the host, never the token in the path) on failure,
    // or ws_refused when the server answers the upgrade with an HTTP status.
    static net::awaitable<ws_connection> connect(std::string url, client_options options);

    ws_connection(ws_connection&&) noexcept;
    ws_connection& operator=(ws_connection&&) noexcept;
    ~ws_connection();

    // The next text (or binary) message; nullopt once the connection ended,
    // with peer_close() telling how.
    net::awaitable<std::optional<std::string>> read();
    // Sends one text message. Throws boost::system::system_error on failure.
    net::awaitable<void> write(std::shared_ptr<std::string const> text);
    // Sends a close frame and waits for the peer's (bounded by a timeout).
    net::awaitable<void> close(int code, std::string reason);
    // Encoded mode, for a server that builds its frames ahead of time
    // (ws_frame.hpp): frames are written straight to the transport, many in
    // one write, and client frames are parsed here instead of by Beast.
    // Once a connection calls enter_encoded_mode() it must use only
    // write_encoded() and read_client_frame(): Beast's own writes (pongs,
    // keep-alive pings, close replies) would interleave with these bytes, so
    // it sends none, and the caller answers pings and closes itself.
    void enter_encoded_mode();
    // Writes complete server frames, back to back. Throws
    // boost::system::system_error on failure.
    net::awaitable<void> write_encoded(std::vector<std::string_view> frames);
    // The next frame from the client (pings, pongs and closes included);
    // nullopt once the connection ended, or after a protocol error (sent to
    // the peer as a close frame), with peer_close() telling how.
    net::awaitable<std::optional<client_frame>> read_client_frame();
    // Ends the TCP connection at once, with no close frame. Any thread-safe
    // use must happen on the connection's executor.
    void abort();

    // A callable that aborts this connection, valid (even after this object
    // is moved from) until the connection is destroyed.
    std::function<void()> aborter() const;

    close_status const& peer_close() const;
    std::string const& remote_address() const;

    struct impl;  // the implementation's; opaque here
    explicit ws_connection(std::unique_ptr<impl> p);
    impl* native() const { return impl_.get(); }

private:
    std::unique_ptr<impl> impl_;
};

// The server refused the websocket upgrade with an HTTP response.
class ws_refused : public client_error {
public:
    ws_refused(int status, std::string body);
    int status() const { return status_; }
    std::string const& body() const { return body_; }

private:
    int status_;
    std::string body_;
};

}  // namespace harness::web
