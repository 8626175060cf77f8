#include "mockserver/mock_server.hpp"

#include "core/log/log.hpp"
#include "core/web/http_server.hpp"
#include "mockserver/admin_api.hpp"
#include "mockserver/api_error.hpp"
#include "mockserver/rate_limiter.hpp"
#include "mockserver/request_journal.hpp"
#include "mockserver/resource_json.hpp"
#include "mockserver/resource_store.hpp"
#include "mockserver/rest_api.hpp"
#include "mockserver/token_service.hpp"

#include <nlohmann/json.hpp>

namespace harness::mock {
namespace {

// Browsers call the real service from front ends, so every answer allows
// the calling origin, and preflights are answered for any path.
void allow_cross_origin(web::request const& request, web::response& response) {
    auto const origin = request.header("Origin");
    response.set_header("Access-Control-Allow-Origin", origin ? *origin : "*");
    response.set_header("Access-Control-Expose-Headers", "Retry-After, WWW-Authenticate");
    if (origin) response.set_header("Vary", "Origin");
}

web::response preflight(web::request const& request) {
    web::response response;
    response.status = 204;
    response.set_header("Access-Control-Allow-Methods", "GET, POST, PATCH, DELETE, OPTIONS");
    auto const requested = request.header("Access-Control-Request-Headers");
    response.set_header("Access-Control-Allow-Headers",
                        requested ? *requested : "Authorization, Content-Type, DP-Company-ID");
    response.set_header("Access-Control-Max-Age", "600");
    return response;
}

std::string with_scheme(std::string const& base, std::string_view from, std::string_view to) {
    return base.starts_with(from) ? std::string{to} + base.substr(from.size()) : base;
}

}  // namespace

std::string mock_endpoints::ready_line() const {
    nlohmann::ordered_json line;
    line["ready"] = true;
    line["http"] = http;
    line["ws"] = ws;
    line["admin"] = admin;
    line["api_keys"] = api_keys;
    return line.dump();
}

struct mock_server::impl {
    impl(net::any_io_executor executor, mock_options o, clock& time_source, virtual_clock* steerable)
        : options{std::move(o)},
          time{time_source},
          keys{options.api_keys.empty() ? std::vector<api_key>{{std::string{k_default_api_key}, std::string{k_default_company}}}
                                        : options.api_keys},
          tokens{time_source},
          limiter{time_source},
          feed{executor, store, tokens, keys, time_source, options.feed},
          replays{executor, feed, store, time_source},
          admin{journal, feed, replays, time_source, steerable, admin_actions{[this] {
                    replays.reset();
                    feed.close_all();
                    feed.clear_faults();
                    feed.clear_deliveries();
                    store.clear();
                    limiter.clear();
                }, options.seed, fixture_library{options.fixtures_dir}, options.admin_token, options.expose_admin}},
          server{executor,
                 web::server_options{.host = options.host,
                                     .port = options.port,
                                     .tls_certificate_file = options.tls_certificate_file,
                                     .tls_private_key_file = options.tls_private_key_file,
                                     .large_body_prefix = "/__admin/",
                                     .large_body_limit = options.admin_body_limit,
                                     .request_timeout = options.request_timeout},
                 [this](web::request& request) { return handle(request); },
                 [](int status, std::string const& message) { return error_response(status, message); }} {
        server.on_upgrade([this](web::request const& request) {
            if (feed_hub::owns(request.path)) return feed.upgrade(request);
            web::upgrade_decision refuse;
            refuse.refusal = error_response(404, "no websocket at " + request.path, "notFound");
            return refuse;
        });
    }

    web::response handle(web::request& request) {
        web::response response;
        std::string company;
        bool const is_admin = admin_api::owns(request.path);
        if (request.method == "OPTIONS")
            response = preflight(request);
        else if (rest_api::owns(request.path))
            response = rest->handle(request, company);
        else if (is_admin)
            response = admin.handle(request);
        else if (feed_hub::owns(request.path))
            response = error_response(426, "connect to " + request.path + " with a websocket", "upgradeRequired");
        else
            response = error_response(404, "no such endpoint: " + request.path, "notFound");
        allow_cross_origin(request, response);
        if (!is_admin) journal.record(request, response.status, company, unix_millis(time.wall_now()));
        HLOG(debug, "http.request")
            .field("method", request.method)
            .field("path", mask_api_key(request.target))
            .field("status", response.status);
        return response;
    }

    mock_options options;
    clock& time;
    api_keys keys;
    token_service tokens;
    resource_store store;
    rate_limiter limiter;
    request_journal journal;
    feed_hub feed;
    mock_replays replays;
    admin_api admin;
    web::server server;
    std::optional<resource_renderer> renderer;  // needs the bound port
    std::optional<rest_api> rest;
    // --replay: waits for the first event connection, then starts once.
    std::optional<std::pair<replay_source, replay_pacing>> pending_replay;
};

mock_server::mock_server(net::any_io_executor executor, mock_options options, clock& time_source,
                         virtual_clock* steerable)
    : impl_{std::make_unique<impl>(std::move(executor), std::move(options), time_source, steerable)} {}

mock_server::~mock_server() = default;

mock_endpoints mock_server::start() {
    auto& s = *impl_;
    s.server.start();
    mock_endpoints endpoints;
    endpoints.port = s.server.port();
    auto const shown_host = s.options.host == "0.0.0.0" || s.options.host == "::" ? "127.0.0.1" : s.options.host;
    auto const bracketed = shown_host.find(':') != std::string::npos ? "[" + shown_host + "]" : shown_host;
    endpoints.http = s.options.public_url.value_or((s.server.uses_tls() ? "https://" : "http://") + bracketed + ":" +
                                                   std::to_string(endpoints.port));
    while (endpoints.http.ends_with('/')) endpoints.http.pop_back();
    endpoints.ws = with_scheme(with_scheme(endpoints.http, "https://", "wss://"), "http://", "ws://") + "/events/";
    endpoints.admin = endpoints.http + "/__admin";
    endpoints.api_keys = s.keys.listed_keys();
    s.renderer.emplace(s.tokens, endpoints.ws);
    s.rest.emplace(s.store, s.keys, *s.renderer, s.options.rate_limits ? &s.limiter : nullptr);
    HLOG(info, "mock.ready").field("http", endpoints.http).field("ws", endpoints.ws).field("tls", s.server.uses_tls());
    return endpoints;
}

void mock_server::replay_on_first_connection(replay_source source, replay_pacing pacing) {
    auto& s = *impl_;
    s.pending_replay.emplace(std::move(source), pacing);
    s.feed.on_connection_opened([&s] {
        if (!s.pending_replay) return;
        auto [pending_source, pending_pacing] = std::move(*s.pending_replay);
        s.pending_replay.reset();
        s.replays.start(std::move(pending_source), pending_pacing);
    });
}

web::server::offline_exchange mock_server::serve_bytes(std::string_view bytes, std::string const& remote_address,
                                                      std::function<void()> const& between_requests) {
    return impl_->server.serve_bytes(bytes, remote_address, between_requests);
}

void mock_server::stop() {
    impl_->replays.cancel_all();
    impl_->feed.close_all();
    impl_->server.stop();
}

}  // namespace harness::mock
