#pragma once
// A small blocking HTTP/1.1 client (http and https) for REST calls: the
// recorder's set-up requests and the tests. Each call opens one connection.

#include "core/web/http_message.hpp"

#include <chrono>
#include <optional>
#include <string>

namespace harness::web {

struct client_options {
    bool verify_tls = true;                 // false only for --insecure
    std::optional<std::string> ca_file;     // PEM bundle to trust instead of the system store
    std::chrono::milliseconds timeout{15'000};  // for the whole exchange
};

// Thrown when no HTTP response could be had: bad URL, DNS, connect, TLS,
// timeout. The message is one line and names the host, never the query.
class client_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Sends one request to `url` and returns the response, whatever its status.
response fetch(std::string const& method, std::string const& url, header_map const& headers = {},
               std::string const& body = {}, client_options const& options = {});

}  // namespace harness::web
