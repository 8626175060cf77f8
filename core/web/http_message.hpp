#pragma once
// Plain HTTP request and response values: what handlers see and return.
// Beast's types stay inside core/web/*.cpp, so code that serves or calls
// HTTP compiles without them.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace harness::web {

// Header names compare case-insensitively, as HTTP requires.
struct header_name_less {
    bool operator()(std::string_view a, std::string_view b) const;
    using is_transparent = void;
};
using header_map = std::multimap<std::string, std::string, header_name_less>;

struct request {
    std::string method;  // "GET", "POST", ...
    std::string target;  // as sent: path plus query
    std::string path;    // percent-decoded path, without the query
    std::multimap<std::string, std::string> query;  // decoded query parameters
    header_map headers;
    std::string body;
    std::string remote_address;  // the peer's IP address
    bool remote_is_loopback = false;

    // The first value of header `name`, if present.
    std::optional<std::string> header(std::string_view name) const;
    // The first value of query parameter `name`, if present.
    std::optional<std::string> query_value(std::string_view name) const;
};

struct response {
    int status = 200;
    header_map headers;
    std::string body;

    // A response with a JSON body and its content type.
    static response json(int status, std::string body);
    void set_header(std::string name, std::string value);
    std::optional<std::string> header(std::string_view name) const;
};

// The standard reason phrase for a status code ("Not Found").
std::string_view reason_phrase(int status);

// Splits "a=1&b=x%20y" into decoded pairs; malformed escapes are kept as is.
std::multimap<std::string, std::string> parse_query(std::string_view query);
// Decodes %XX escapes (and '+' as space when `plus_is_space`).
std::string percent_decode(std::string_view text, bool plus_is_space = false);

}  // namespace harness::web
