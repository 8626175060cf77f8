#include "core/web/client_target.hpp"

#include <boost/url/parse.hpp>

namespace harness::web {

client_target parse_client_url(std::string const& url, url_kind kind) {
    bool const websocket = kind == url_kind::websocket;
    auto parsed = boost::urls::parse_uri(url);
    if (!parsed) throw client_error{websocket ? "not a valid websocket URL" : "not a valid URL"};
    client_target t;
    auto const scheme = parsed->scheme();
    if (scheme == "https" || scheme == "wss")
        t.tls = true;
    else if (scheme != "http" && scheme != "ws")
        throw client_error{websocket ? std::string{"a websocket URL must start with ws:// or wss://"}
                                     : "unsupported URL scheme '" + std::string{scheme} + "'"};
    t.host = parsed->host_address();
    if (t.host.empty()) throw client_error{"URL has no host"};
    t.port = parsed->has_port() ? std::string{parsed->port()} : (t.tls ? "443" : "80");
    // Appended piece by piece: g++ 12 at -O3 misreads the bounds of the
    // temporaries that `"?" + std::string{...}` makes (-Warray-bounds).
    std::string_view const path = parsed->encoded_path();
    t.target.append(path.empty() ? std::string_view{"/"} : path);
    if (parsed->has_query()) {
        t.target.push_back('?');
        t.target.append(std::string_view{parsed->encoded_query()});
    }
    return t;
}

void configure_client_tls(boost::asio::ssl::context& context, client_options const& options) {
    namespace ssl = boost::asio::ssl;
    context.set_options(ssl::context::no_sslv2 | ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                        ssl::context::no_tlsv1_1);
    if (!options.verify_tls) {
        context.set_verify_mode(ssl::verify_none);
        return;
    }
    boost::system::error_code ec;
    if (options.ca_file)
        context.load_verify_file(*options.ca_file, ec);
    else
        context.set_default_verify_paths(ec);
    if (ec) throw client_error{"cannot load trusted certificates: " + ec.message()};
    context.set_verify_mode(ssl::verify_peer);
}

}  // namespace harness::web
