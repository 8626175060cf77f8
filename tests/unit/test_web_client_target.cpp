// core/web/client_target: where the REST and websocket clients connect.

#include "core/web/client_target.hpp"

#include <doctest/doctest.h>

using namespace harness::web;

TEST_CASE("web client_target: schemes, default ports, path and query") {
    auto const rest = parse_client_url("https://dialpad.com/api/v2/websockets?limit=5", url_kind::http);
    CHECK(rest.tls);
    CHECK(rest.host == "dialpad.com");
    CHECK(rest.port == "443");
    CHECK(rest.target == "/api/v2/websockets?limit=5");

    auto const ws = parse_client_url("ws://127.0.0.1:8088/events/abc", url_kind::websocket);
    CHECK_FALSE(ws.tls);
    CHECK(ws.port == "8088");
    CHECK(ws.target == "/events/abc");
    CHECK(parse_client_url("wss://h.test", url_kind::websocket).port == "443");
    CHECK(parse_client_url("http://h.test", url_kind::http).target == "/");
    CHECK(parse_client_url("http://[::1]:9/x", url_kind::http).host == "::1");
}

TEST_CASE("web client_target: refusals name the problem, never the URL's query") {
    auto const message = [](std::string const& url, url_kind kind) {
        try {
            parse_client_url(url, kind);
        } catch (client_error const& e) {
            return std::string{e.what()};
        }
        return std::string{"accepted"};
    };
    CHECK(message("ftp://h.test/?apikey=hidden", url_kind::http) == "unsupported URL scheme 'ftp'");
    CHECK(message("ftp://h.test/?apikey=hidden", url_kind::websocket) == "a websocket URL must start with ws:// or wss://");
    CHECK(message("not a url ?apikey=hidden", url_kind::http) == "not a valid URL");
    CHECK(message("wss:///events/x", url_kind::websocket) == "URL has no host");
}
