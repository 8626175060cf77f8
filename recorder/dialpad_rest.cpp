#include "recorder/dialpad_rest.hpp"

#include <nlohmann/json.hpp>

#include <charconv>

namespace harness::recorder {
namespace {

std::string status_cause(int status) {
    switch (status) {
    case 400: return "the request was refused as invalid (400)";
    case 401: return "the API key was refused (401 Unauthorized)";
    case 403: return "the API key may not do this (403 Forbidden)";
    case 404: return "not found (404)";
    case 429: return "rate limited (429 Too Many Requests)";
    default: break;
    }
    if (status >= 500) return "the service failed (" + std::to_string(status) + ")";
    return "unexpected status " + std::to_string(status);
}

// Dialpad's error body: {"error":{"message":...}}; its message helps.
std::string error_detail(std::string const& body) {
    auto const json = nlohmann::json::parse(body, nullptr, false);
    if (json.is_object() && json.contains("error") && json["error"].is_object() && json["error"].contains("message") &&
        json["error"]["message"].is_string())
    {
        // Quoted on one line and bounded: the service's text is not ours to trust.
        auto message = json["error"]["message"].get<std::string>();
        for (auto& c : message)
            if (c == '\n' || c == '\r' || c == '\t') c = ' ';
        if (message.size() > 200) message.resize(200);
        return ": " + message;
    }
    return {};
}

std::optional<std::chrono::seconds> retry_after(web::response const& r) {
    auto const header = r.header("Retry-After");
    if (!header) return std::nullopt;
    long seconds = 0;
    auto const [end, error] = std::from_chars(header->data(), header->data() + header->size(), seconds);
    if (error != std::errc{} || seconds < 0) return std::nullopt;
    return std::chrono::seconds{seconds};
}

}  // namespace

websocket_info parse_websocket_json(std::string const& body, std::string const& what) {
    auto const json = nlohmann::json::parse(body, nullptr, false);
    websocket_info info;
    bool ok = json.is_object() && json.contains("websocket_url") && json["websocket_url"].is_string();
    ok = ok && json.contains("id");
    if (ok) {
        auto const& id = json["id"];
        if (id.is_number_integer()) {
            info.id = id.get<std::int64_t>();
        } else if (id.is_string()) {
            auto const& text = id.get_ref<std::string const&>();
            auto const [end, error] = std::from_chars(text.data(), text.data() + text.size(), info.id);
            ok = error == std::errc{} && end == text.data() + text.size();
        } else {
            ok = false;
        }
    }
    if (!ok) throw rest_failure{what + ": the answer is not a websocket object (garbled JSON)", false};
    info.url = json["websocket_url"].get<std::string>();
    if (json.contains("signature") && json["signature"].is_object() && json["signature"].contains("secret") &&
        json["signature"]["secret"].is_string())
        info.secret = json["signature"]["secret"].get<std::string>();
    return info;
}

dialpad_rest::dialpad_rest(std::string api_base, std::string api_key, web::client_options options)
    : api_base_{std::move(api_base)}, api_key_{std::move(api_key)}, options_{std::move(options)} {
    while (!api_base_.empty() && api_base_.back() == '/') api_base_.pop_back();
}

std::string dialpad_rest::scrub(std::string text) const {
    if (api_key_.empty()) return text;
    for (auto at = text.find(api_key_); at != std::string::npos; at = text.find(api_key_, at))
        text.replace(at, api_key_.size(), "***");
    return text;
}

web::response dialpad_rest::call(std::string const& method, std::string const& path, std::string const& body) const {
    auto const what = method + " " + path;
    web::header_map headers{{"Authorization", "Bearer " + api_key_}, {"Accept", "application/json"}};
    if (!body.empty()) headers.emplace("Content-Type", "application/json");
    web::response response;
    try {
        response = web::fetch(method, api_base_ + path, headers, body, options_);
    } catch (web::client_error const& e) {  // DNS, connect, TLS, timeout: already one line
        // A certificate that does not verify will not verify on a retry either.
        bool const certificate = std::string_view{e.what()}.find("certificate verify failed") != std::string_view::npos;
        throw rest_failure{scrub(what + ": " + e.what()), certificate};
    }
    if (response.status >= 200 && response.status < 300) return response;
    auto const status = response.status;
    // A refused request stays refused (4xx), except a timeout or a rate limit;
    // the service failing (5xx) or redirecting is worth another try.
    bool const permanent = status >= 400 && status < 500 && status != 408 && status != 429;
    // A Retry-After longer than an hour is not worth waiting for in one go.
    auto wait = status == 429 ? retry_after(response) : std::nullopt;
    if (wait && *wait > std::chrono::hours{1}) wait = std::chrono::hours{1};
    throw rest_failure{scrub(what + ": " + status_cause(status) + error_detail(response.body)), permanent, wait};
}

websocket_info dialpad_rest::create_websocket(std::optional<std::string> const& secret) const {
    nlohmann::json body = nlohmann::json::object();
    if (secret) body["secret"] = *secret;
    auto const response = call("POST", "/api/v2/websockets", body.dump());
    return parse_websocket_json(response.body, "POST /api/v2/websockets");
}

void dialpad_rest::create_subscription(std::int64_t websocket_id, subscription_spec const& spec) const {
    auto body = "{\"endpoint_id\":" + std::to_string(websocket_id);
    if (!spec.body_json.empty()) body.append(",").append(spec.body_json);
    body.append("}");
    call("POST", "/api/v2/subscriptions/" + spec.kind, body);
}

websocket_info dialpad_rest::get_websocket(std::int64_t websocket_id) const {
    auto const path = "/api/v2/websockets/" + std::to_string(websocket_id);
    auto const response = call("GET", path, {});
    return parse_websocket_json(response.body, "GET " + path);
}

}  // namespace harness::recorder
