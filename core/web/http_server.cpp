#include "core/web/http_server.hpp"

#include "core/log/log.hpp"
#include "core/net/spawn.hpp"
#include "core/web/ws_upgrade.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/buffers_range.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/system/system_error.hpp>

#include <algorithm>
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

using request_parser = bhttp::request_parser<bhttp::string_body>;

// How reading one request ended: with a request to answer, with a failure
// the server answers itself, or with nothing to answer (the client went
// away, or stopped mid-request).
struct read_outcome {
    int failure_status = 0;
    std::string failure_message;
    bool end = false;
};

bool wants_continue(request_parser const& parser) {
    return beast::iequals(parser.get()[bhttp::field::expect], "100-continue");
}

bhttp::response<bhttp::empty_body> continue_response(request_parser const& parser) {
    return {bhttp::status::continue_, parser.get().version()};
}

// One client's bytes as a stream that ends where they do: serve_bytes()
// reads them with Beast's synchronous read algorithms, which drive the
// parser exactly as the asynchronous ones do on a socket.
class bytes_stream {
public:
    explicit bytes_stream(std::string_view bytes) : rest_{bytes} {}
    template <class MutableBuffers>
    std::size_t read_some(MutableBuffers const& buffers, error_code& ec) {
        if (rest_.empty()) {
            ec = net::error::eof;
            return 0;
        }
        ec = {};
        auto const copied = net::buffer_copy(buffers, net::const_buffer{rest_.data(), rest_.size()});
        rest_.remove_prefix(copied);
        return copied;
    }
    template <class MutableBuffers>
    std::size_t read_some(MutableBuffers const& buffers) {
        error_code ec;
        auto const copied = read_some(buffers, ec);
        if (ec) throw boost::system::system_error{ec};
        return copied;
    }

private:
    std::string_view rest_;
};

// Where serve_bytes() writes: the bytes a socket would have carried.
class string_sink {
public:
    explicit string_sink(std::string& out) : out_{out} {}
    template <class ConstBuffers>
    std::size_t write_some(ConstBuffers const& buffers, error_code& ec) {
        ec = {};
        std::size_t written = 0;
        for (auto const buffer : beast::buffers_range_ref(buffers)) {
            out_.append(static_cast<char const*>(buffer.data()), buffer.size());
            written += buffer.size();
        }
        return written;
    }
    template <class ConstBuffers>
    std::size_t write_some(ConstBuffers const& buffers) {
        error_code ec;
        return write_some(buffers, ec);
    }

private:
    std::string& out_;
};

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

    // What the server does with a request it has read (or failed to read):
    // an answer, or a websocket session that takes the connection over.
    struct reply {
        response answer;
        bool keep_alive = false;
        unsigned version = 11;
        std::function<net::awaitable<void>(ws_connection)> session;
        bool handler_failed = false;
    };

    void limit(request_parser& parser) const;
    read_outcome after_header(error_code const& ec, request_parser& parser) const;
    read_outcome after_body(error_code const& ec, request_parser const& parser) const;
    std::size_t body_limit_for(std::string_view target) const;
    reply respond(request_parser& parser, read_outcome const& outcome, tcp::endpoint const& remote, std::uint64_t id);
    std::optional<response> refuse_handshake(beast_request const& request) const;

    // A connection that became a websocket, and the session to run on it.
    struct upgraded {
        ws_connection ws;
        std::function<net::awaitable<void>(ws_connection)> session;
    };
    // Serves requests until the connection ends, or until it becomes a
    // websocket: then returns it, so that the parser, the read buffer and
    // this coroutine's frame are freed before its session runs (kilobytes
    // per idle websocket, with thousands of them).
    template <class Stream>
    net::awaitable<std::optional<upgraded>> serve_requests(Stream& stream, tcp::endpoint remote,
                                                           std::uint64_t id);
};

void server::state::limit(request_parser& parser) const {
    parser.body_limit(std::max(options.body_limit, options.large_body_limit));  // until the path is known
    parser.header_limit(static_cast<std::uint32_t>(options.header_limit));
}

std::size_t server::state::body_limit_for(std::string_view target) const {
    bool const large = !options.large_body_prefix.empty() && target.starts_with(options.large_body_prefix);
    return large ? options.large_body_limit : options.body_limit;
}

// After the header: a failure to answer, the end, or (nothing set) the body
// to read, with the body limit of the request's path in place.
read_outcome server::state::after_header(error_code const& ec, request_parser& parser) const {
    read_outcome outcome;
    if (ec == bhttp::error::body_limit) {  // Content-Length says too much already
        outcome.failure_status = 413;
        outcome.failure_message = "request body is larger than " +
                                  std::to_string(std::max(options.body_limit, options.large_body_limit)) + " bytes";
    } else if (ec == bhttp::error::header_limit) {
        outcome.failure_status = 431;
        outcome.failure_message = "request headers are too large";
    } else if (ec) {
        // Closed, timed out, or not HTTP at all. A client that sent
        // garbage gets a 400; one that went away gets nothing.
        if (is_normal_disconnect(ec) || ec == bhttp::error::partial_message) {
            outcome.end = true;
        } else {
            outcome.failure_status = 400;
            outcome.failure_message = "malformed HTTP request: " + ec.message();
        }
    } else {
        auto const target = parser.get().target();
        auto const body_limit = body_limit_for(std::string_view{target.data(), target.size()});
        parser.body_limit(body_limit);
        if (auto const length = parser.content_length(); length && *length > body_limit) {
            outcome.failure_status = 413;
            outcome.failure_message = "request body is larger than " + std::to_string(body_limit) + " bytes";
        }
    }
    return outcome;
}

read_outcome server::state::after_body(error_code const& ec, request_parser const& parser) const {
    read_outcome outcome;
    if (ec == bhttp::error::body_limit) {
        auto const target = parser.get().target();
        outcome.failure_status = 413;
        outcome.failure_message = "request body is larger than " +
                                  std::to_string(body_limit_for(std::string_view{target.data(), target.size()})) +
                                  " bytes";
    } else if (ec) {
        if (is_normal_disconnect(ec) || ec == bhttp::error::partial_message) {
            outcome.end = true;
        } else {
            outcome.failure_status = 400;
            outcome.failure_message = "malformed HTTP request body: " + ec.message();
        }
    }
    return outcome;
}

// A websocket handshake RFC 6455 §4.2.1 refuses, answered before the
// upgrade handler runs, so a malformed one has no effect there: no Host, a
// Sec-WebSocket-Key that is not 16 bytes in base64 (Beast checks only that
// one is there and not too long), a version other than 13 (426, naming 13).
std::optional<response> server::state::refuse_handshake(beast_request const& request) const {
    if (request.find(bhttp::field::host) == request.end())
        return error(400, "the websocket handshake needs a Host header");
    auto const key = request[bhttp::field::sec_websocket_key];
    auto const base64 = [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
               c == '/';
    };
    if (key.size() != 24 || !std::all_of(key.begin(), key.begin() + 22, base64) || key.substr(22) != "==")
        return error(400, "the websocket handshake needs a Sec-WebSocket-Key of 16 bytes in base64");
    if (request[bhttp::field::sec_websocket_version] != "13") {
        auto refusal = error(426, "only websocket version 13 is supported");
        refusal.set_header("Sec-WebSocket-Version", "13");
        return refusal;
    }
    return std::nullopt;
}

server::state::reply server::state::respond(request_parser& parser, read_outcome const& outcome,
                                            tcp::endpoint const& remote, std::uint64_t id) {
    reply r;
    if (outcome.failure_status != 0) {
        r.answer = error(outcome.failure_status, outcome.failure_message);
        HLOG(debug, "http.bad_request")
            .field("conn", id)
            .field("status", outcome.failure_status)
            .field("why", outcome.failure_message);
        return r;
    }
    auto& beast_request = parser.get();
    if (upgrade && boost::beast::websocket::is_upgrade(beast_request)) {
        if (auto refusal = refuse_handshake(beast_request)) {
            HLOG(debug, "http.bad_upgrade").field("conn", id).field("status", refusal->status);
            r.answer = std::move(*refusal);
            return r;
        }
        // As with requests: a handler that throws costs a 500, not the server.
        try {
            auto decision = upgrade(to_request(beast_request, remote));
            if (!decision.refusal) {
                r.session = std::move(decision.session);
                return r;
            }
            r.answer = std::move(*decision.refusal);
        } catch (std::exception const& e) {
            HLOG(error, "http.upgrade_handler_failed").field("conn", id).field("error", e.what());
            r.answer = error(500, "internal error");
            r.handler_failed = true;
        }
        return r;
    }
    r.keep_alive = beast_request.keep_alive();
    r.version = beast_request.version();
    auto in = to_request(beast_request, remote);
    try {
        r.answer = handler(in);
    } catch (std::exception const& e) {
        HLOG(error, "http.handler_failed").field("conn", id).field("path", in.path).field("error", e.what());
        r.answer = error(500, "internal error");
        r.handler_failed = true;
    }
    return r;
}

namespace {

// Coroutines take the state by shared_ptr (by value): a server destroyed
// while they still wind down must not free what they use.
net::awaitable<void> serve_connection(std::shared_ptr<server::state> s, tcp::socket socket, std::uint64_t id);
net::awaitable<void> accept_loop(std::shared_ptr<server::state> s);

}  // namespace

// What a lingering close reads per call; dropped at once.
constexpr std::size_t k_linger_read_size = 16 * 1024;

template <class Stream>
net::awaitable<std::optional<server::state::upgraded>> server::state::serve_requests(Stream& stream,
                                                                                   tcp::endpoint remote,
                                                                                   std::uint64_t id) {
    beast::flat_buffer buffer;
    auto& lowest = beast::get_lowest_layer(stream);
    for (;;) {
        request_parser parser;
        limit(parser);
        lowest.expires_after(options.request_timeout);
        auto [header_ec, header_bytes] = co_await bhttp::async_read_header(stream, buffer, parser, use_tuple);
        (void)header_bytes;
        auto outcome = after_header(header_ec, parser);
        if (outcome.end) co_return std::nullopt;
        if (outcome.failure_status == 0) {
            if (wants_continue(parser)) {
                auto go_on = continue_response(parser);
                auto [continue_ec, continue_bytes] = co_await bhttp::async_write(stream, go_on, use_tuple);
                (void)continue_bytes;
                if (continue_ec) co_return std::nullopt;
            }
            // Beast reads into the buffer's spare capacity (at least 512
            // bytes): without room, a large body arrives in hundreds of
            // small reads, each a syscall and a timer update.
            constexpr std::size_t k_body_read_size = 64 * 1024;
            auto const length = parser.content_length();
            if (length && *length > buffer.capacity() - buffer.size())
                buffer.reserve(buffer.size() + std::min<std::uint64_t>(*length, k_body_read_size));
            auto [body_ec, body_bytes] = co_await bhttp::async_read(stream, buffer, parser, use_tuple);
            (void)body_bytes;
            outcome = after_body(body_ec, parser);
            if (outcome.end) co_return std::nullopt;
        }

        auto reply = respond(parser, outcome, remote, id);
        if (reply.session) {
            // The connection becomes a websocket: hand the stream over
            // and let the session own it until the end.
            // The stream moves into the websocket: until the handshake is
            // done, stop() can only leave a note, acted on right after.
            auto stop_requested = std::make_shared<bool>(false);
            closers[id] = [stop_requested] { *stop_requested = true; };
            std::optional<ws_connection> ws;
            std::string refused;
            try {
                auto handshake = accept_websocket(std::move(stream), parser.release(), remote.address().to_string());
                ws.emplace(co_await std::move(handshake));
            } catch (boost::system::system_error const& e) {
                // Beast refused what refuse_handshake() lets through, with an
                // answer, or the client went away: the connection is closed,
                // a client's doing, not an error of ours.
                refused = e.what();
            }
            if (!ws) {
                HLOG(debug, "http.upgrade_failed").field("conn", id).field("error", refused);
                co_return std::nullopt;
            }
            if (*stop_requested || stopped) {
                ws->abort();
                co_return std::nullopt;
            }
            closers[id] = ws->aborter();
            co_return upgraded{std::move(*ws), std::move(reply.session)};
        }
        auto out = to_beast(reply.answer, reply.version, reply.keep_alive);
        lowest.expires_after(options.request_timeout);
        auto [write_ec, written] = co_await bhttp::async_write(stream, out, use_tuple);
        (void)written;
        if (write_ec) co_return std::nullopt;
        if (!reply.keep_alive) break;
    }
    error_code ignored;
    lowest.socket().shutdown(tcp::socket::shutdown_send, ignored);
    // A lingering close (RFC 9112 §9.6). The last answer may leave unread
    // bytes behind it: the rest of a body refused with 413, a request
    // pipelined after one that closes. Closing a socket with unread bytes
    // sends a reset, which can destroy the answer in the client's receive
    // buffer before the client has read it, and a client still sending
    // sees its write fail instead of the 413. So the rest is read and
    // dropped until the client closes, for at most linger_time.
    buffer.clear();
    buffer.shrink_to_fit();
    // The stream's timeout ends a wait for bytes; the deadline is checked
    // here too because a read that finds bytes waiting completes before
    // the timeout can, so a client sending without pause never meets it.
    auto const deadline = std::chrono::steady_clock::now() + options.linger_time;
    lowest.expires_at(deadline);
    while (std::chrono::steady_clock::now() < deadline) {
        auto [drain_ec, drained] = co_await lowest.async_read_some(buffer.prepare(k_linger_read_size), use_tuple);
        (void)drained;
        if (drain_ec) break;
    }
    co_return std::nullopt;
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
        auto upgrade = co_await s->serve_requests(stream, remote, id);
        if (upgrade) co_await upgrade->session(std::move(upgrade->ws));
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
    auto upgrade = co_await s->serve_requests(secure, remote, id);
    if (upgrade) co_await upgrade->session(std::move(upgrade->ws));
}

net::awaitable<void> accept_loop(std::shared_ptr<server::state> s) {
    // After a failed accept, how long to wait before the next: the refused
    // connection stays queued, so accepting again at once would spin the
    // loop (and the log) at full speed until some descriptor is freed.
    constexpr auto k_accept_retry = std::chrono::milliseconds{50};
    net::steady_timer pause{s->executor};
    std::uint64_t failures = 0;  // in a row; only the first is logged
    for (;;) {
        auto [ec, socket] = co_await s->acceptor->async_accept(use_tuple);
        if (s->stopped) co_return;
        if (ec) {
            if (ec == net::error::operation_aborted) co_return;
            // Out of descriptors and the like: keep serving the connections
            // we have; the next accept may succeed once some close.
            if (failures++ == 0) HLOG(warn, "http.accept_failed").field("error", ec.message());
            pause.expires_after(k_accept_retry);
            auto [pause_ec] = co_await pause.async_wait(use_tuple);
            (void)pause_ec;
            if (s->stopped) co_return;
            continue;
        }
        if (failures > 0) {
            HLOG(info, "http.accept_recovered").field("failed_attempts", failures);
            failures = 0;
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

server::offline_exchange server::serve_bytes(std::string_view bytes, std::string const& remote_address,
                                             std::function<void()> const& between_requests) {
    auto& s = *state_;
    offline_exchange result;
    tcp::endpoint const remote{net::ip::make_address(remote_address), 0};
    auto const id = s.next_connection++;
    bytes_stream client{bytes};
    string_sink sink{result.written};
    beast::flat_buffer buffer;
    for (;;) {
        request_parser parser;
        s.limit(parser);
        error_code ec;
        bhttp::read_header(client, buffer, parser, ec);
        auto outcome = s.after_header(ec, parser);
        if (outcome.end) break;
        if (outcome.failure_status == 0) {
            if (wants_continue(parser)) {
                auto go_on = continue_response(parser);
                bhttp::write(sink, go_on, ec);
            }
            bhttp::read(client, buffer, parser, ec);
            outcome = s.after_body(ec, parser);
            if (outcome.end) break;
        }
        auto reply = s.respond(parser, outcome, remote, id);
        if (reply.handler_failed) ++result.handler_failures;
        if (reply.session) {
            result.upgraded = true;
            break;
        }
        auto out = to_beast(reply.answer, reply.version, reply.keep_alive);
        bhttp::write(sink, out, ec);
        ++result.answered;
        if (!reply.keep_alive) break;
        if (between_requests) between_requests();
    }
    return result;
}

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
