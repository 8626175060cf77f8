#pragma once
// What the two clients (http_client for REST calls, ws_connection for event
// websockets) share before any byte is sent: where a URL points, and a TLS
// context that trusts what client_options says.

#include "core/web/http_client.hpp"

#include <boost/asio/ssl/context.hpp>

#include <string>

namespace harness::web {

struct client_target {
    bool tls = false;  // https or wss
    std::string host;
    std::string port;    // the scheme's default when the URL names none
    std::string target;  // path and query, "/" at least
};

enum class url_kind { http, websocket };

// http(s) and ws(s) URLs are taken by both kinds; the kind words the error.
// Throws client_error for a URL that does not parse, another scheme or no
// host; the message never quotes the URL (its query may hold a key).
client_target parse_client_url(std::string const& url, url_kind kind);

// TLS 1.2 or newer; with verification on, the peer is checked against
// options.ca_file or else the system's trusted certificates (client_error
// when they cannot be loaded). The host name check and SNI are per stream.
void configure_client_tls(boost::asio::ssl::context& context, client_options const& options);

}  // namespace harness::web
