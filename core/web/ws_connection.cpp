#include "core/web/ws_connection.hpp"

#include "core/web/client_target.hpp"
#include "core/web/ws_upgrade.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/beast/websocket/stream.hpp>

#include <algorithm>
#include <tuple>
#include <type_traits>
#include <openssl/ssl.h>

namespace harness::web {

// Type erasure over the two stream types (plain and TLS), so the rest of
// the project sees one class and Beast is instantiated here only.
struct ws_connection::impl {
    virtual ~impl() = default;
    virtual net::awaitable<std::optional<std::string>> read() = 0;
    virtual net::awaitable<void> write(std::shared_ptr<std::string const> text) = 0;
    virtual net::awaitable<void> close(int code, std::string reason) = 0;
    virtual void abort() = 0;
    virtual void enter_encoded_mode() = 0;
    virtual net::awaitable<void> write_encoded(std::vector<std::string_view> frames) = 0;
    virtual net::awaitable<std::optional<client_frame>> read_client_frame() = 0;

    close_status peer;
    std::string remote;
};

namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace websocket = boost::beast::websocket;
using tcp = net::ip::tcp;
using boost::system::error_code;
constexpr auto use_tuple = net::as_tuple(net::use_awaitable);

// In encoded mode clients only send pings, closes and the odd message the
// server ignores: anything larger is refused rather than buffered.
constexpr std::size_t k_encoded_mode_client_frame_max = 1u << 20;
// The least an encoded-mode read asks for (a ping or a close fits); the
// buffer grows geometrically for a larger frame and is let go once empty
// and larger than this, so thousands of idle clients hold next to nothing.
constexpr std::size_t k_encoded_mode_read_size = 512;

// What a close frame from the peer says: its code and reason, if any.
void record_close(close_status& peer, std::string const& payload) {
    if (payload.size() >= 2) {
        peer.code = (static_cast<unsigned char>(payload[0]) << 8) | static_cast<unsigned char>(payload[1]);
        peer.reason = payload.substr(2);
    } else {
        peer.code = 1005;  // "no status received"
    }
}

template <class Next>
struct stream_impl final : ws_connection::impl {
    template <class... Args>
    explicit stream_impl(Args&&... args) : ws{std::forward<Args>(args)...} {}

    net::awaitable<std::optional<std::string>> read() override {
        auto [ec, size] = co_await ws.async_read(buffer, use_tuple);
        if (ec) {
            if (ec == websocket::error::closed) {
                peer.code = ws.reason().code;
                peer.reason = std::string{ws.reason().reason.c_str()};
            } else {
                peer.abrupt = true;
            }
            co_return std::nullopt;
        }
        auto text = beast::buffers_to_string(buffer.data());
        buffer.consume(size);
        co_return text;
    }

    net::awaitable<void> write(std::shared_ptr<std::string const> text) override {
        ws.text(true);
        co_await ws.async_write(net::buffer(*text), net::use_awaitable);
    }

    net::awaitable<void> close(int code, std::string reason) override {
        websocket::close_reason why{static_cast<websocket::close_code>(code), reason};
        auto [ec] = co_await ws.async_close(why, use_tuple);
        (void)ec;  // the peer may already be gone; either way we are done
    }

    void abort() override {
        error_code ignored;
        beast::get_lowest_layer(ws).socket().close(ignored);
    }

    void enter_encoded_mode() override {
        // No Beast timer may send a ping between our bytes.
        websocket::stream_base::timeout quiet{};
        quiet.handshake_timeout = websocket::stream_base::none();
        quiet.idle_timeout = websocket::stream_base::none();
        quiet.keep_alive_pings = false;
        ws.set_option(quiet);
    }

    net::awaitable<void> write_encoded(std::vector<std::string_view> frames) override {
        std::vector<net::const_buffer> buffers;
        buffers.reserve(frames.size());
        for (auto frame : frames) buffers.emplace_back(frame.data(), frame.size());
        // Up to 1 MiB per system call (Asio's default is 64 KiB). Plain
        // connections write to the socket itself: beast::tcp_stream's
        // timeout bookkeeping would cost a reactor round trip per call.
        auto const up_to_1mib = [](error_code const& ec, std::size_t) -> std::size_t { return ec ? 0 : 1u << 20; };
        error_code ec;
        if constexpr (std::is_same_v<Next, beast::tcp_stream>) {
            auto [write_ec, written] =
                co_await net::async_write(beast::get_lowest_layer(ws).socket(), buffers, up_to_1mib, use_tuple);
            (void)written;
            ec = write_ec;
        } else {
            auto [write_ec, written] = co_await net::async_write(ws.next_layer(), buffers, up_to_1mib, use_tuple);
            (void)written;
            ec = write_ec;
        }
        if (ec) throw boost::system::system_error{ec};
    }

    net::awaitable<std::optional<client_frame>> read_client_frame() override {
        for (;;) {
            if (ended) co_return std::nullopt;
            auto const* data = static_cast<char const*>(buffer.data().data());
            auto parsed = parse_client_frame(std::string_view{data, buffer.size()}, k_encoded_mode_client_frame_max);
            if (parsed.outcome == client_frame_parse::status::frame) {
                buffer.consume(parsed.consumed);
                if (buffer.size() == 0 && buffer.capacity() > k_encoded_mode_read_size)
                    buffer.shrink_to_fit();
                if (parsed.frame.opcode == ws_opcode::close) {
                    record_close(peer, parsed.frame.payload);
                    ended = true;
                }
                co_return std::move(parsed.frame);
            }
            if (parsed.outcome == client_frame_parse::status::error) {
                // Handed back as the close the caller should send.
                ended = true;
                peer.code = parsed.close_code;
                peer.reason = parsed.message;
                client_frame close{ws_opcode::close, true, close_payload(parsed.close_code, parsed.message)};
                co_return close;
            }
            auto [ec, size] = co_await read_some();
            if (ec) {
                ended = true;
                peer.abrupt = true;
                co_return std::nullopt;
            }
        }
    }

    // Reads what has arrived into `buffer`, from the socket itself on plain
    // connections (see write_encoded). A plain connection waits for bytes
    // before it takes any buffer, and then takes room for what is there.
    net::awaitable<std::tuple<error_code, std::size_t>> read_some() {
        auto const room = [this](std::size_t wanted) {
            wanted = std::min<std::size_t>(wanted, 64u << 10);
            auto const spare = buffer.capacity() - buffer.size();
            return buffer.prepare(std::max({wanted, k_encoded_mode_read_size, spare}));
        };
        error_code ec;
        std::size_t size = 0;
        if constexpr (std::is_same_v<Next, beast::tcp_stream>) {
            auto& socket = beast::get_lowest_layer(ws).socket();
            auto [wait_ec] = co_await socket.async_wait(tcp::socket::wait_read, use_tuple);
            if (wait_ec) co_return std::tuple{wait_ec, std::size_t{0}};
            error_code available_ec;
            auto const available = socket.available(available_ec);
            auto [read_ec, read] = co_await socket.async_read_some(room(available), use_tuple);
            ec = read_ec;
            size = read;
        } else {
            auto [read_ec, read] = co_await ws.next_layer().async_read_some(room(0), use_tuple);
            ec = read_ec;
            size = read;
        }
        if (!ec) buffer.commit(size);
        co_return std::tuple{ec, size};
    }

    websocket::stream<Next> ws;
    bool ended = false;  // encoded mode: a close was read, or the transport ended
    beast::flat_buffer buffer;
};

using plain_impl = stream_impl<beast::tcp_stream>;
using tls_impl = stream_impl<beast::ssl_stream<beast::tcp_stream>>;

template <class Impl>
void configure_server(Impl& impl) {
    auto timeouts = websocket::stream_base::timeout::suggested(beast::role_type::server);
    timeouts.keep_alive_pings = true;  // notice a peer that vanished without a close
    impl.ws.set_option(timeouts);
    impl.ws.set_option(websocket::stream_base::decorator([](websocket::response_type& response) {
        response.set(bhttp::field::server, "dialpad-harness");
    }));
    impl.ws.read_message_max(16u << 20);
}

template <class Impl>
net::awaitable<void> client_handshake(Impl& impl, client_target const& u) {
    impl.ws.set_option(websocket::stream_base::timeout::suggested(beast::role_type::client));
    impl.ws.read_message_max(64u << 20);
    websocket::response_type response;
    auto [ec] = co_await impl.ws.async_handshake(response, u.host + ":" + u.port, u.target, use_tuple);
    if (ec == websocket::error::upgrade_declined)
        throw ws_refused{static_cast<int>(response.result_int()), response.body()};
    if (ec) throw client_error{"websocket handshake with " + u.host + ":" + u.port + " failed: " + ec.message()};
}

}  // namespace

ws_refused::ws_refused(int status, std::string body)
    : client_error{"the server refused the websocket upgrade with HTTP " + std::to_string(status)},
      status_{status},
      body_{std::move(body)} {}

ws_connection::ws_connection(std::unique_ptr<impl> p) : impl_{std::move(p)} {}
ws_connection::ws_connection(ws_connection&&) noexcept = default;
ws_connection& ws_connection::operator=(ws_connection&&) noexcept = default;
ws_connection::~ws_connection() = default;

net::awaitable<std::optional<std::string>> ws_connection::read() {
    auto result = co_await impl_->read();
    co_return result;
}

net::awaitable<void> ws_connection::write(std::shared_ptr<std::string const> text) {
    co_await impl_->write(std::move(text));
}

net::awaitable<void> ws_connection::close(int code, std::string reason) {
    co_await impl_->close(code, std::move(reason));
}

void ws_connection::abort() { impl_->abort(); }
void ws_connection::enter_encoded_mode() { impl_->enter_encoded_mode(); }

net::awaitable<void> ws_connection::write_encoded(std::vector<std::string_view> frames) {
    co_await impl_->write_encoded(std::move(frames));
}

net::awaitable<std::optional<client_frame>> ws_connection::read_client_frame() {
    auto frame = co_await impl_->read_client_frame();
    co_return frame;
}
std::function<void()> ws_connection::aborter() const {
    return [connection = impl_.get()] { connection->abort(); };
}
close_status const& ws_connection::peer_close() const { return impl_->peer; }
std::string const& ws_connection::remote_address() const { return impl_->remote; }

net::awaitable<ws_connection> ws_connection::connect(std::string url, client_options options) {
    auto const u = parse_client_url(url, url_kind::websocket);
    auto executor = co_await net::this_coro::executor;
    tcp::resolver resolver{executor};
    auto [resolve_ec, endpoints] = co_await resolver.async_resolve(u.host, u.port, use_tuple);
    if (resolve_ec) throw client_error{"cannot resolve " + u.host + ": " + resolve_ec.message()};
    beast::tcp_stream stream{executor};
    stream.expires_after(options.timeout);
    auto [connect_ec, endpoint] = co_await stream.async_connect(endpoints, use_tuple);
    if (connect_ec) throw client_error{"cannot connect to " + u.host + ":" + u.port + ": " + connect_ec.message()};
    stream.expires_never();  // the websocket's own timeouts take over

    if (!u.tls) {
        auto p = std::make_unique<plain_impl>(std::move(stream));
        p->remote = endpoint.address().to_string();
        co_await client_handshake(*p, u);
        co_return ws_connection{std::move(p)};
    }
    // The context must outlive the stream: keep it beside the connection.
    auto context = std::make_shared<net::ssl::context>(net::ssl::context::tls_client);
    configure_client_tls(*context, options);
    struct owning_tls_impl final : ws_connection::impl {
        owning_tls_impl(std::shared_ptr<net::ssl::context> c, beast::tcp_stream s)
            : context{std::move(c)}, inner{std::move(s), *context} {}
        net::awaitable<std::optional<std::string>> read() override {
            auto r = co_await inner.read();
            peer = inner.peer;
            co_return r;
        }
        net::awaitable<void> write(std::shared_ptr<std::string const> t) override { co_await inner.write(std::move(t)); }
        net::awaitable<void> close(int c, std::string r) override { co_await inner.close(c, std::move(r)); }
        void abort() override { inner.abort(); }
        void enter_encoded_mode() override { inner.enter_encoded_mode(); }
        net::awaitable<void> write_encoded(std::vector<std::string_view> f) override {
            co_await inner.write_encoded(std::move(f));
        }
        net::awaitable<std::optional<client_frame>> read_client_frame() override {
            auto r = co_await inner.read_client_frame();
            peer = inner.peer;
            co_return r;
        }
        std::shared_ptr<net::ssl::context> context;
        tls_impl inner;
    };
    auto p = std::make_unique<owning_tls_impl>(context, std::move(stream));
    p->remote = endpoint.address().to_string();
    auto& ssl = p->inner.ws.next_layer();
    if (!SSL_set_tlsext_host_name(ssl.native_handle(), u.host.c_str()))
        throw client_error{"cannot set TLS server name for " + u.host};
    if (options.verify_tls) ssl.set_verify_callback(net::ssl::host_name_verification(u.host));
    beast::get_lowest_layer(p->inner.ws).expires_after(options.timeout);
    auto [handshake_ec] = co_await ssl.async_handshake(net::ssl::stream_base::client, use_tuple);
    if (handshake_ec)
        throw client_error{"TLS handshake with " + u.host + ":" + u.port + " failed: " + handshake_ec.message()};
    beast::get_lowest_layer(p->inner.ws).expires_never();
    co_await client_handshake(p->inner, u);
    co_return ws_connection{std::move(p)};
}

net::awaitable<ws_connection> accept_websocket(beast::tcp_stream stream, beast_request request,
                                               std::string remote_address) {
    stream.expires_never();
    auto p = std::make_unique<plain_impl>(std::move(stream));
    p->remote = std::move(remote_address);
    configure_server(*p);
    co_await p->ws.async_accept(request, net::use_awaitable);
    co_return ws_connection{std::move(p)};
}

net::awaitable<ws_connection> accept_websocket(beast::ssl_stream<beast::tcp_stream> stream, beast_request request,
                                               std::string remote_address) {
    beast::get_lowest_layer(stream).expires_never();
    auto p = std::make_unique<tls_impl>(std::move(stream));
    p->remote = std::move(remote_address);
    configure_server(*p);
    co_await p->ws.async_accept(request, net::use_awaitable);
    co_return ws_connection{std::move(p)};
}

}  // namespace harness::web
