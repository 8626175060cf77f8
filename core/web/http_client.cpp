#include "core/web/http_client.hpp"

#include "core/net/asio_fwd.hpp"
#include "core/web/client_target.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <openssl/ssl.h>

namespace harness::web {
namespace {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;
using boost::system::error_code;
constexpr auto use_tuple = net::as_tuple(net::use_awaitable);

response from_beast(bhttp::response<bhttp::string_body>& in) {
    response out;
    out.status = static_cast<int>(in.result_int());
    for (auto const& field : in) out.headers.emplace(std::string{field.name_string()}, std::string{field.value()});
    out.body = std::move(in.body());
    return out;
}

template <class Stream>
net::awaitable<response> exchange(Stream& stream, bhttp::request<bhttp::string_body> request) {
    auto [write_ec, written] = co_await bhttp::async_write(stream, request, use_tuple);
    (void)written;
    if (write_ec) throw client_error{"sending the request failed: " + write_ec.message()};
    beast::flat_buffer buffer;
    bhttp::response_parser<bhttp::string_body> parser;
    parser.body_limit(64u << 20);
    auto [read_ec, read] = co_await bhttp::async_read(stream, buffer, parser, use_tuple);
    (void)read;
    if (read_ec) throw client_error{"reading the response failed: " + read_ec.message()};
    co_return from_beast(parser.get());
}

net::awaitable<response> fetch_async(client_target t, bhttp::request<bhttp::string_body> request, client_options options) {
    auto executor = co_await net::this_coro::executor;
    auto const where = t.host + ":" + t.port;
    tcp::resolver resolver{executor};
    auto [resolve_ec, endpoints] = co_await resolver.async_resolve(t.host, t.port, use_tuple);
    if (resolve_ec) throw client_error{"cannot resolve " + t.host + ": " + resolve_ec.message()};

    beast::tcp_stream stream{executor};
    stream.expires_after(options.timeout);
    auto [connect_ec, endpoint] = co_await stream.async_connect(endpoints, use_tuple);
    (void)endpoint;
    if (connect_ec) throw client_error{"cannot connect to " + where + ": " + connect_ec.message()};
    if (!t.tls) {
        auto result = co_await exchange(stream, std::move(request));
        co_return result;
    }

    net::ssl::context context{net::ssl::context::tls_client};
    configure_client_tls(context, options);
    beast::ssl_stream<beast::tcp_stream> secure{std::move(stream), context};
    // SNI, and the name the certificate must carry.
    if (!SSL_set_tlsext_host_name(secure.native_handle(), t.host.c_str()))
        throw client_error{"cannot set TLS server name for " + t.host};
    if (options.verify_tls) secure.set_verify_callback(net::ssl::host_name_verification(t.host));
    auto [handshake_ec] = co_await secure.async_handshake(net::ssl::stream_base::client, use_tuple);
    if (handshake_ec) throw client_error{"TLS handshake with " + where + " failed: " + handshake_ec.message()};
    auto result = co_await exchange(secure, std::move(request));
    co_return result;
}

}  // namespace

response fetch(std::string const& method, std::string const& url, header_map const& headers, std::string const& body,
               client_options const& options) {
    auto const t = parse_client_url(url, url_kind::http);
    bhttp::request<bhttp::string_body> request;
    request.method_string(method);
    request.target(t.target);
    request.version(11);
    request.set(bhttp::field::host, t.host + ":" + t.port);
    request.set(bhttp::field::user_agent, "dialpad-harness");
    for (auto const& [name, value] : headers) request.set(name, value);
    request.body() = body;
    request.keep_alive(false);
    request.prepare_payload();

    net::io_context ioc;
    auto result = net::co_spawn(ioc, fetch_async(t, std::move(request), options), net::use_future);
    ioc.run();
    return result.get();
}

}  // namespace harness::web
