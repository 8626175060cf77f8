#pragma once
// The seam between the HTTP server and websockets: turns an HTTP connection
// whose request asked for an upgrade into a ws_connection. Includes Beast
// types, so only http_server.cpp and ws_connection.cpp include it.

#include "core/web/ws_connection.hpp"

#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

namespace harness::web {

using beast_request = boost::beast::http::request<boost::beast::http::string_body>;

// Completes the handshake for `request` (already read) and returns the
// connection. Throws boost::system::system_error if the handshake fails.
net::awaitable<ws_connection> accept_websocket(boost::beast::tcp_stream stream, beast_request request,
                                               std::string remote_address);
net::awaitable<ws_connection> accept_websocket(boost::beast::ssl_stream<boost::beast::tcp_stream> stream,
                                               beast_request request, std::string remote_address);

}  // namespace harness::web
