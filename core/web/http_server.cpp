#include "core/web/http_server.hpp"

#include "core/log/log.hpp"
#include "core/net/spawn.hpp"
#include "core/web/ws_upgrade.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include <unordered_map>

namespace harness::web {
namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;
using boost::system::error_code;
constexpr auto use_tuple = net::as_tuple(net::use_awaitable);

request to_request(bhttp::request<bhttp::string_body>& in, tcp::endpoint const& remote) {
    request out;
    out.method = std::string{in.method_string()};
    out.target = std::string{in.target()};
    auto const question = out.target.find('?');
    out.path = percent_decode(std::string_view{out.target}.substr(0, question));
    if (question != std::string::npos) out.query = parse_query(std::string_view{out.target}.substr(question + 1));
    for (auto const& field : in) out.headers.emplace(std::string{field.name_string()}, std::string{field.value()});
    out.body = std::move(in.body());
    out.remote_address = remote.address().to_string();
    out.remote_is_loopback = remote.address().is_loopback();
    return out;
}

bhttp::response<bhttp::string_body> to_beast(response const& in, unsigned version, bool keep_alive) {
    bhttp::response<bhttp::string_body> out{static_cast<bhttp::status>(in.status), version};
    for (auto const& [name, value] : in.headers) out.insert(name, value);
    out.body() = in.body;
    out.keep_alive(keep_alive);
    out.prepare_payload();
    return out;
}

}  // namespace

struct server::state {
    net::any_io_executor executor;
    server_options options;
    request_handler handler;
    error_responder on_error;
    upgrade_handler upgrade;
    std::optional<tcp::acceptor> acceptor;
    std::optional<net::ssl::context> tls;
    std::uint16_t port = 0;
    bool stopped = false;
    std::uint64_t next_connection = 1;
    // Closes each live connection's socket; stop() calls them all.
    std::unordered_map<std::uint64_t, std::function<void()>> closers;

    response error(int status, std::string const& message) const {
        if (on_error) return on_error(status, message);
        return response::json(status, R"({"error":")" + message + "\"}");
    }

    template <class Stream>
    net::awaitable<void> serve_requests(Stream& stream, tcp::endpoint remote, std::uint64_t id);
};

namespace {

// Coroutines take the state by shared_ptr (by value): a server destroyed
// while they still wind down must not free what they use.
net::awaitable<void> serve_connection(std::shared_ptr<server::state> s, tcp::socket socket, std::uint64_t id);
net::awaitable<void> accept_loop(std::shared_ptr<server::state> s);

}  // namespace

template <class Stream>
net::awaitable<void> server::state::serve_requests(Stream& stream, tcp::endpoint remote, std::uint64_t id) {
    beast::flat_buffer buffer;
    auto& lowest = beast::get_lowest_layer(stream);
    for (;;) {
        bhttp::request_parser<bhttp::string_body> parser;
        parser.body_limit(std::max(options.body_limit, options.large_body_limit));  // until the path is known
        parser.header_limit(static_cast<std::uint32_t>(options.header_limit));
        lowest.expires_after(options.request_timeout);

        int failure_status = 0;
        std::string failure_message;
        auto [header_ec, header_bytes] = co_await bhttp::async_read_header(stream, buffer, parser, use_tuple);
        (void)header_bytes;
        if (header_ec == bhttp::error::body_limit) {  // Content-Length says too much already
            failure_status = 413;
            failure_message = "request body is larger than " +
                              std::to_string(std::max(options.body_limit, options.large_body_limit)) + " bytes";
        } else if (header_ec == bhttp::error::header_limit) {
            failure_status = 431;
            failure_message = "request headers are too large";
        } else if (header_ec) {
            // Closed, timed out, or not HTTP at all. A client that sent
            // garbage gets a 400; one that went away gets nothing.
            if (is_normal_disconnect(header_ec) || header_ec == bhttp::error::partial_message) co_return;
            failure_status = 400;
            failure_message = "malformed HTTP request: " + header_ec.message();
        } else {
            auto const length = parser.content_length();
            auto const target = parser.get().target();
            bool const large = !options.large_body_prefix.empty() &&
                               std::string_view{target.data(), target.size()}.starts_with(options.large_body_prefix);
            auto const body_limit = large ? options.large_body_limit : options.body_limit;
            parser.body_limit(body_limit);
            if (length && *length > body_limit) {
                failure_status = 413;
                failure_message = "request body is larger than " + std::to_string(body_limit) + " bytes";
            } else {
                auto const expect = parser.get()[bhttp::field::expect];
                if (beast::iequals(expect, "100-continue")) {
                    bhttp::response<bhttp::empty_body> go_on{bhttp::status::continue_, parser.get().version()};
                    auto [continue_ec, continue_bytes] = co_await bhttp::async_write(stream, go_on, use_tuple);
                    (void)continue_bytes;
                    if (continue_ec) co_return;
                }
                // Beast reads into the buffer's spare capacity (at least 512
                // bytes): without room, a large body arrives in hundreds of
                // small reads, each a syscall and a timer update.
                constexpr std::size_t k_body_read_size = 64 * 1024;
                if (length && *length > buffer.capacity() - buffer.size())
                    buffer.reserve(buffer.size() + std::min<std::uint64_t>(*length, k_body_read_size));
                auto [body_ec, body_bytes] = co_await bhttp::async_read(stream, buffer, parser, use_tuple);
                (void)body_bytes;
                if (body_ec == bhttp::error::body_limit) {
                    failure_status = 413;
                    failure_message = "request body is larger than " + std::to_string(body_limit) + " bytes";
                } else if (body_ec) {
                    if (is_normal_disconnect(body_ec) || body_ec == bhttp::error::partial_message) co_return;
                    failure_status = 400;
                    failure_message = "malformed HTTP request body: " + body_ec.message();
                }
            }
        }

        response answer;
        bool keep_alive = false;
        unsigned version = 11;
        if (failure_status != 0) {
            answer = error(failure_status, failure_message);
            HLOG(debug, "http.bad_request").field("conn", id).field("status", failure_status).field("why", failure_message);
        } else if (upgrade && boost::beast::websocket::is_upgrade(parser.get())) {
            auto decision = upgrade(to_request(parser.get(), remote));
            if (!decision.refusal) {
                // The connection becomes a websocket: hand the stream over
                // and let the session own it until the end.
                // The stream moves into the websocket: until the handshake is
                // done, stop() can only leave a note, acted on right after.
                auto stop_requested = std::make_shared<bool>(false);
                closers[id] = [stop_requested] { *stop_requested = true; };
                auto ws = co_await accept_websocket(std::move(stream), parser.release(), remote.address().to_string());
                if (*stop_requested || stopped) {
                    ws.abort();
                    co_return;
                }
                closers[id] = ws.aborter();
                co_await decision.session(std::move(ws));
                co_return;
            }
            answer = std::move(*decision.refusal);
        } else {
            auto& beast_request = parser.get();
            keep_alive = beast_request.keep_alive();
            version = beast_request.version();
            auto in = to_request(beast_request, remote);
            try {
                answer = handler(in);
            } catch (std::exception const& e) {
                HLOG(error, "http.handler_failed").field("conn", id).field("path", in.path).field("error", e.what());
                answer = error(500, "internal error");
            }
        }
        auto out = to_beast(answer, version, keep_alive);
        lowest.expires_after(options.request_timeout);
        auto [write_ec, written] = co_await bhttp::async_write(stream, out, use_tuple);
        (void)written;
        if (write_ec || !keep_alive) break;
    }
    error_code ignored;
    lowest.socket().shutdown(tcp::socket::shutdown_send, ignored);
}

namespace {

net::awaitable<void> serve_connection(std::shared_ptr<server::state> s, tcp::socket socket, std::uint64_t id) {
    error_code ignored;
    auto const remote = socket.remote_endpoint(ignored);
    // Removes this connection's closer however the coroutine ends.
    struct registration {
        server::state& s;
        std::uint64_t id;
        ~registration() { s.closers.erase(id); }
    } const registered{*s, id};

    if (!s->tls) {
        beast::tcp_stream stream{std::move(socket)};
        s->closers[id] = [&stream] { stream.socket().close(); };
        co_await s->serve_requests(stream, remote, id);
        co_return;
    }
    beast::ssl_stream<beast::tcp_stream> secure{beast::tcp_stream{std::move(socket)}, *s->tls};
    s->closers[id] = [&secure] { beast::get_lowest_layer(secure).socket().close(); };
    beast::get_lowest_layer(secure).expires_after(s->options.request_timeout);
    auto [ec] = co_await secure.async_handshake(net::ssl::stream_base::server, use_tuple);
    if (ec) {
        HLOG(debug, "http.tls_handshake_failed").field("conn", id).field("error", ec.message());
        co_return;
    }
    co_await s->serve_requests(secure, remote, id);
}

net::awaitable<void> accept_loop(std::shared_ptr<server::state> s) {
    for (;;) {
        auto [ec, socket] = co_await s->acceptor->async_accept(use_tuple);
        if (s->stopped) co_return;
        if (ec) {
            if (ec == net::error::operation_aborted) co_return;
            // Out of descriptors and the like: keep serving the connections
            // we have; the next accept may succeed once some close.
            HLOG(warn, "http.accept_failed").field("error", ec.message());
            continue;
        }
        if (s->closers.size() >= s->options.max_connections) {
            HLOG(warn, "http.too_many_connections").field("limit", s->options.max_connections);
            continue;  // the socket closes as it goes out of scope
        }
        auto const id = s->next_connection++;
        net::co_spawn(s->executor, serve_connection(s, std::move(socket), id), log_on_exit{"http connection"});
    }
}

}  // namespace

server::server(net::any_io_executor executor, server_options options, request_handler handler,
               error_responder on_error)
    : state_{std::make_shared<state>()} {
    state_->executor = std::move(executor);
    state_->options = std::move(options);
    state_->handler = std::move(handler);
    state_->on_error = std::move(on_error);
}

server::~server() { stop(); }

void server::start() {
    auto& s = *state_;
    auto const where = s.options.host + ":" + std::to_string(s.options.port);
    if (s.options.tls_certificate_file || s.options.tls_private_key_file) {
        if (!s.options.tls_certificate_file || !s.options.tls_private_key_file)
            throw std::runtime_error{"TLS needs both a certificate file and a private key file"};
        s.tls.emplace(net::ssl::context::tls_server);
        // TLS 1.2 and newer only.
        s.tls->set_options(net::ssl::context::default_workarounds | net::ssl::context::no_sslv2 |
                           net::ssl::context::no_sslv3 | net::ssl::context::no_tlsv1 |
                           net::ssl::context::no_tlsv1_1 | net::ssl::context::single_dh_use);
        error_code ec;
        s.tls->use_certificate_chain_file(*s.options.tls_certificate_file, ec);
        if (ec) throw std::runtime_error{"cannot load TLS certificate " + *s.options.tls_certificate_file + ": " + ec.message()};
        s.tls->use_private_key_file(*s.options.tls_private_key_file, net::ssl::context::pem, ec);
        if (ec) throw std::runtime_error{"cannot load TLS private key " + *s.options.tls_private_key_file + ": " + ec.message()};
    }
    error_code ec;
    auto const address = net::ip::make_address(s.options.host, ec);
    if (ec) throw std::runtime_error{"not an IP address: " + s.options.host};
    tcp::endpoint const endpoint{address, s.options.port};
    s.acceptor.emplace(s.executor);
    s.acceptor->open(endpoint.protocol(), ec);
    if (!ec) s.acceptor->set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) s.acceptor->bind(endpoint, ec);
    if (!ec) s.acceptor->listen(net::socket_base::max_listen_connections, ec);
    if (ec) throw std::runtime_error{"cannot listen on " + where + ": " + ec.message()};
    s.port = s.acceptor->local_endpoint().port();
    net::co_spawn(s.executor, accept_loop(state_), log_on_exit{"http accept loop"});
}

void server::on_upgrade(upgrade_handler handler) { state_->upgrade = std::move(handler); }

std::uint16_t server::port() const { return state_->port; }
bool server::uses_tls() const { return state_->tls.has_value(); }
std::size_t server::open_connections() const { return state_->closers.size(); }

void server::stop() {
    auto& s = *state_;
    if (s.stopped) return;
    s.stopped = true;
    error_code ignored;
    if (s.acceptor) s.acceptor->close(ignored);
    // Closing a socket fails its pending operation; each connection's
    // coroutine then ends and removes itself. Copy: removal happens later.
    auto closers = s.closers;
    for (auto& [id, close] : closers) close();
}

}  // namespace harness::web
