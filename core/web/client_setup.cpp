#include "core/web/client_setup.hpp"

#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/url/parse.hpp>
#include <openssl/ssl.h>

namespace harness::web {

url_target parse_target(std::string const& url) {
    auto parsed = boost::urls::parse_uri(url);
    if (!parsed) throw client_error{"not a valid URL"};
    url_target t;
    auto const scheme = parsed->scheme();
    if (scheme == "https" || scheme == "wss")
        t.tls = true;
    else if (scheme != "http" && scheme != "ws")
        throw client_error{"unsupported URL scheme '" + std::string{scheme} + "'"};
    t.host = parsed->host_address();
    if (t.host.empty()) throw client_error{"URL has no host"};
    t.port = parsed->has_port() ? std::string{parsed->port()} : (t.tls ? "443" : "80");
    t.path_and_query = std::string{parsed->encoded_path()};
    if (t.path_and_query.empty()) t.path_and_query = "/";
    if (parsed->has_query()) t.path_and_query += "?" + std::string{parsed->encoded_query()};
    return t;
}

std::shared_ptr<boost::asio::ssl::context> make_client_tls_context(client_options const& options) {
    namespace ssl = boost::asio::ssl;
    auto context = std::make_shared<ssl::context>(ssl::context::tls_client);
    context->set_options(ssl::context::no_sslv2 | ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                         ssl::context::no_tlsv1_1);
    if (!options.verify_tls) {
        context->set_verify_mode(ssl::verify_none);
        return context;
    }
    boost::system::error_code ec;
    if (options.ca_file)
        context->load_verify_file(*options.ca_file, ec);
    else
        context->set_default_verify_paths(ec);
    if (ec) throw client_error{"cannot load trusted certificates: " + ec.message()};
    context->set_verify_mode(ssl::verify_peer);
    return context;
}

void prepare_client_tls(boost::beast::ssl_stream<boost::beast::tcp_stream>& stream, std::string const& host,
                        bool verify) {
    if (!SSL_set_tlsext_host_name(stream.native_handle(), host.c_str()))
        throw client_error{"cannot set TLS server name for " + host};
    if (verify) stream.set_verify_callback(boost::asio::ssl::host_name_verification(host));
}

}  // namespace harness::web
