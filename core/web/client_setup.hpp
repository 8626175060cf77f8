#pragma once
// What the HTTP client and the websocket client share: reading a target URL
// and setting up client TLS (trusted certificates, SNI, host name check).
// Includes Beast's TLS stream, so only http_client.cpp and ws_connection.cpp
// include it.

#include "core/web/http_client.hpp"

#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include <memory>
#include <string>

namespace harness::web {

struct url_target {
    bool tls = false;
    std::string host;
    std::string port;
    std::string path_and_query;  // "/" at least
};

// http, https, ws or wss. Throws client_error (never echoing the URL, which
// may hold a token).
url_target parse_target(std::string const& url);

// A client TLS context: TLS 1.2 and newer, peers verified against the system
// store or `options.ca_file` unless `options.verify_tls` is false.
std::shared_ptr<boost::asio::ssl::context> make_client_tls_context(client_options const& options);

// Sets SNI and, when verifying, the host name the certificate must carry.
void prepare_client_tls(boost::beast::ssl_stream<boost::beast::tcp_stream>& stream, std::string const& host,
                        bool verify);

}  // namespace harness::web
