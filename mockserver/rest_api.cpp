#include "mockserver/rest_api.hpp"

#include "core/jwt/base64url.hpp"
#include "mockserver/api_error.hpp"

#include <algorithm>
#include <array>
#include <charconv>

namespace harness::mock {
namespace {

// A client error found while reading a request: becomes a Dialpad error body.
struct api_failure {
    int status;
    std::string message;
    std::string reason;
};

[[noreturn]] void fail(int status, std::string message, std::string reason = {}) {
    throw api_failure{status, std::move(message), std::move(reason)};
}

constexpr std::array<std::string_view, 32> k_call_states = {
    "admin", "admin_recording", "ai_playbook", "all", "barge", "blocked", "call_transcription", "calling",
    "connected", "csat", "dispositions", "eavesdrop", "hangup", "hold", "merged", "missed", "monitor", "parked",
    "pcsat", "postcall", "preanswer", "queued", "recap_action_items", "recap_outcome", "recap_purposes",
    "recap_summary", "recording", "ringing", "takeover", "transcription", "voicemail", "voicemail_uploaded"};
constexpr std::array<std::string_view, 11> k_target_types = {
    "callcenter", "callrouter", "channel", "coachinggroup", "coachingteam", "department", "office", "room",
    "staffgroup", "unknown", "user"};
constexpr std::array<std::string_view, 3> k_sms_directions = {"all", "inbound", "outbound"};
constexpr std::array<std::string_view, 2> k_contact_types = {"local", "shared"};
constexpr std::array<std::string_view, 1> k_agent_types = {"callcenter"};

template <std::size_t N>
std::string one_of(std::array<std::string_view, N> const& values) {
    std::string text;
    for (auto v : values) text += (text.empty() ? "" : ", ") + std::string{v};
    return text;
}

std::optional<std::int64_t> parse_id(std::string_view text) {
    std::int64_t value = 0;
    auto const [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc{} || end != text.data() + text.size() || value <= 0) return std::nullopt;
    return value;
}

// The JSON body of a create or update, read field by field with errors that
// name the field.
class body_reader {
public:
    explicit body_reader(web::request const& request) {
        if (request.body.find_first_not_of(" \t\r\n") == std::string::npos) {
            json_ = nlohmann::json::object();
            return;
        }
        // Lenient about Content-Type (clients often omit it), strict about
        // the body itself.
        json_ = nlohmann::json::parse(request.body, nullptr, false);
        if (json_.is_discarded()) {
            auto const type = request.header("Content-Type");
            fail(400, "request body is not valid JSON" +
                          (type && type->find("json") == std::string::npos ? " (Content-Type: " + *type + ")"
                                                                           : std::string{}));
        }
        if (!json_.is_object()) fail(400, "request body must be a JSON object");
    }

    bool has(char const* name) const { return json_.contains(name) && !json_.at(name).is_null(); }
    bool present(char const* name) const { return json_.contains(name); }

    std::optional<std::string> string(char const* name) const {
        if (!has(name)) return std::nullopt;
        auto const& v = json_.at(name);
        if (!v.is_string()) fail(400, std::string{"field '"} + name + "' must be a string", "invalid");
        return v.get<std::string>();
    }
    std::optional<bool> boolean(char const* name) const {
        if (!has(name)) return std::nullopt;
        auto const& v = json_.at(name);
        if (!v.is_boolean()) fail(400, std::string{"field '"} + name + "' must be true or false", "invalid");
        return v.get<bool>();
    }
    // An int64 id, as a JSON integer or a string of digits (ids come back
    // from the API as strings, and clients send them back either way).
    std::optional<std::int64_t> id(char const* name) const {
        if (!has(name)) return std::nullopt;
        auto const& v = json_.at(name);
        std::optional<std::int64_t> parsed;
        if (v.is_number_integer() && !(v.is_number_unsigned() && v.get<std::uint64_t>() > INT64_MAX))
            parsed = v.get<std::int64_t>() > 0 ? std::optional{v.get<std::int64_t>()} : std::nullopt;
        else if (v.is_string())
            parsed = parse_id(v.get<std::string>());
        if (!parsed) fail(400, std::string{"field '"} + name + "' must be a positive int64 id", "invalid");
        return parsed;
    }
    template <std::size_t N>
    std::optional<std::string> choice(char const* name, std::array<std::string_view, N> const& values) const {
        auto const text = string(name);
        if (text && std::find(values.begin(), values.end(), *text) == values.end())
            fail(400, std::string{"field '"} + name + "' must be one of: " + one_of(values) + " (got '" + *text + "')",
                 "invalid");
        return text;
    }
    std::optional<std::vector<std::string>> call_states(char const* name) const {
        if (!has(name)) return std::nullopt;
        auto const& v = json_.at(name);
        if (!v.is_array()) fail(400, std::string{"field '"} + name + "' must be an array of call states", "invalid");
        std::vector<std::string> states;
        for (auto const& item : v) {
            if (!item.is_string() ||
                std::find(k_call_states.begin(), k_call_states.end(), item.get<std::string>()) == k_call_states.end())
                fail(400, std::string{"field '"} + name + "' has an unknown call state " + item.dump() +
                              "; known states: " + one_of(k_call_states),
                     "invalid");
            states.push_back(item.get<std::string>());
        }
        return states;
    }

private:
    nlohmann::json json_;
};

web::response ok(ordered_json const& body) { return web::response::json(200, body.dump()); }

std::string encode_cursor(std::int64_t after) { return jwt::base64url_encode("after:" + std::to_string(after)); }

// The id after which a page starts (0 for the first page).
std::int64_t decode_cursor(std::optional<std::string> const& cursor) {
    if (!cursor || cursor->empty()) return 0;
    auto const decoded = jwt::base64url_decode(*cursor);
    if (!decoded || !decoded->starts_with("after:")) fail(400, "parameter 'cursor' is not a cursor this API gave out", "invalid");
    auto const id = parse_id(std::string_view{*decoded}.substr(6));
    if (!id) fail(400, "parameter 'cursor' is not a cursor this API gave out", "invalid");
    return *id;
}

std::size_t page_size(web::request const& request) {
    auto const limit = request.query_value("limit");
    if (!limit) return k_default_page_size;
    auto const value = parse_id(*limit);
    if (!value || *value > static_cast<std::int64_t>(k_max_page_size))
        fail(400, "parameter 'limit' must be an integer from 1 to " + std::to_string(k_max_page_size), "invalid");
    return static_cast<std::size_t>(*value);
}

// {"items":[...],"cursor":...}; one extra item is fetched to know whether a
// next page exists, so the last page has a null cursor.
template <class Item, class Render>
web::response page(std::vector<Item const*> items, std::size_t limit, Render render) {
    ordered_json body;
    body["items"] = ordered_json::array();
    bool const more = items.size() > limit;
    if (more) items.resize(limit);
    for (auto const* item : items) body["items"].push_back(render(*item));
    body["cursor"] = more ? ordered_json(encode_cursor(items.back()->id)) : ordered_json(nullptr);
    return ok(body);
}

rate_bucket bucket_of(web::request const& request, std::string_view collection, bool is_item) {
    if (request.method == "POST" && !is_item) {
        if (collection == "websockets") return rate_bucket::websocket_create;
        if (collection == "webhooks") return rate_bucket::webhook_create;
    }
    return rate_bucket::other;
}

}  // namespace

struct rest_api::route {
    std::string collection;  // "websockets", "webhooks" or "subscriptions"
    std::optional<subscription_kind> kind;
    std::optional<std::string> id_text;
};

rest_api::rest_api(resource_store& store, api_keys const& keys, resource_renderer const& renderer,
                   rate_limiter* limiter)
    : store_{store}, keys_{keys}, renderer_{renderer}, limiter_{limiter} {}

bool rest_api::owns(std::string_view path) { return path == "/api/v2" || path.starts_with("/api/v2/"); }

web::response rest_api::handle(web::request const& request, std::string& company) {
    try {
        // Route first: an unknown path is 404 and a wrong method 405 whoever asks.
        std::vector<std::string_view> parts;
        std::string_view path{request.path};
        while (!path.empty()) {
            auto const slash = path.find('/');
            if (slash != 0) parts.push_back(path.substr(0, slash));
            if (slash == std::string_view::npos) break;
            path.remove_prefix(slash + 1);
        }
        route r;
        std::size_t base = 0;
        if (parts.size() >= 3 && parts[0] == "api" && parts[1] == "v2") {
            if (parts[2] == "websockets" || parts[2] == "webhooks") {
                r.collection = std::string{parts[2]};
                base = 3;
            } else if (parts[2] == "subscriptions" && parts.size() >= 4) {
                r.kind = parse_subscription_kind(parts[3]);
                if (r.kind) {
                    r.collection = "subscriptions";
                    base = 4;
                }
            }
        }
        if (r.collection.empty() || parts.size() > base + 1)
            fail(404, "no such endpoint: " + request.path, "notFound");
        if (parts.size() == base + 1) r.id_text = std::string{parts[base]};

        auto const allowed = r.id_text ? std::string_view{"GET, PATCH, DELETE"} : std::string_view{"GET, POST"};
        if (allowed.find(request.method) == std::string_view::npos || request.method.empty()) {
            auto response = error_response(405, "method " + request.method + " is not allowed on " + request.path);
            response.set_header("Allow", std::string{allowed});
            return response;
        }

        // Then who is asking.
        std::optional<std::string> key;
        if (auto const authorization = request.header("Authorization")) {
            std::string_view value{*authorization};
            if (value.size() > 7 && (value.substr(0, 7) == "Bearer " || value.substr(0, 7) == "bearer "))
                key = std::string{value.substr(7)};
            else
                fail(401, "the Authorization header must be 'Bearer <api key>'", "unauthorized");
        } else {
            key = request.query_value("apikey");
        }
        if (!key || key->empty()) {
            auto response = error_response(401, "an API key is required (Authorization: Bearer KEY, or ?apikey=KEY)");
            response.set_header("WWW-Authenticate", "Bearer");
            return response;
        }
        auto const owner = keys_.company_of(*key);
        if (!owner) {
            auto response = error_response(401, "the API key is not valid");
            response.set_header("WWW-Authenticate", "Bearer error=\"invalid_token\"");
            return response;
        }
        company = *owner;

        if (limiter_) {
            if (auto const wait = limiter_->admit(company, bucket_of(request, r.collection, r.id_text.has_value()))) {
                auto response = error_response(429, "rate limit exceeded; retry in " + std::to_string(wait->count()) + " s");
                response.set_header("Retry-After", std::to_string(wait->count()));
                return response;
            }
        }
        return dispatch(request, r, company);
    } catch (api_failure const& failure) {
        return error_response(failure.status, failure.message, failure.reason);
    }
}

web::response rest_api::dispatch(web::request const& request, route const& r, std::string const& company) {
    if (r.collection == "websockets") return websockets(request, r, company);
    if (r.collection == "webhooks") return webhooks(request, r, company);
    return subscriptions(request, r, company);
}

web::response rest_api::websockets(web::request const& request, route const& r, std::string const& company) {
    if (!r.id_text) {
        if (request.method == "GET") {
            auto const limit = page_size(request);
            auto const after = decode_cursor(request.query_value("cursor"));
            return page(store_.list_endpoints(company, endpoint_type::websocket, after, limit + 1), limit,
                        [&](endpoint const& e) { return renderer_.websocket(e); });
        }
        body_reader const body{request};
        endpoint e;
        e.id = store_.next_id();
        e.type = endpoint_type::websocket;
        e.company = company;
        e.secret = body.string("secret");
        if (e.secret && e.secret->empty()) e.secret.reset();
        return ok(renderer_.websocket(store_.add_endpoint(std::move(e))));
    }
    auto const id = parse_id(*r.id_text);
    auto* found = id ? store_.find_endpoint(company, *id, endpoint_type::websocket) : nullptr;
    if (!found) fail(404, "websocket " + *r.id_text + " not found", "notFound");
    if (request.method == "GET") return ok(renderer_.websocket(*found));
    if (request.method == "PATCH") {
        body_reader const body{request};
        if (body.present("secret")) {
            found->secret = body.string("secret");
            if (found->secret && found->secret->empty()) found->secret.reset();
        }
        return ok(renderer_.websocket(*found));
    }
    auto const removed = store_.remove_endpoint(*id);
    return ok(renderer_.websocket(*removed));
}

web::response rest_api::webhooks(web::request const& request, route const& r, std::string const& company) {
    auto const check_url = [](std::string const& url) {
        if (!(url.starts_with("http://") || url.starts_with("https://")) || url.size() <= 8)
            fail(400, "field 'hook_url' must be an http:// or https:// URL", "invalid");
    };
    if (!r.id_text) {
        if (request.method == "GET") {
            auto const limit = page_size(request);
            auto const after = decode_cursor(request.query_value("cursor"));
            return page(store_.list_endpoints(company, endpoint_type::webhook, after, limit + 1), limit,
                        [&](endpoint const& e) { return renderer_.webhook(e); });
        }
        body_reader const body{request};
        auto const url = body.string("hook_url");
        if (!url) fail(400, "field 'hook_url' is required", "required");
        check_url(*url);
        endpoint e;
        e.id = store_.next_id();
        e.type = endpoint_type::webhook;
        e.company = company;
        e.hook_url = *url;
        e.secret = body.string("secret");
        if (e.secret && e.secret->empty()) e.secret.reset();
        return ok(renderer_.webhook(store_.add_endpoint(std::move(e))));
    }
    auto const id = parse_id(*r.id_text);
    auto* found = id ? store_.find_endpoint(company, *id, endpoint_type::webhook) : nullptr;
    if (!found) fail(404, "webhook " + *r.id_text + " not found", "notFound");
    if (request.method == "GET") return ok(renderer_.webhook(*found));
    if (request.method == "PATCH") {
        body_reader const body{request};
        if (auto const url = body.string("hook_url")) {
            check_url(*url);
            found->hook_url = *url;
        }
        if (body.present("secret")) {
            found->secret = body.string("secret");
            if (found->secret && found->secret->empty()) found->secret.reset();
        }
        return ok(renderer_.webhook(*found));
    }
    auto const removed = store_.remove_endpoint(*id);
    return ok(renderer_.webhook(*removed));
}

web::response rest_api::subscriptions(web::request const& request, route const& r, std::string const& company) {
    auto const kind = *r.kind;
    auto const kind_name = std::string{to_string(kind)};
    auto const render = [&](subscription const& s) {
        return renderer_.subscription(s, store_.endpoints().at(s.endpoint_id));
    };

    // Applies a create (is_create) or update body to `s`, validating as the
    // spec's request schemas say.
    auto const apply_body = [&](body_reader const& body, subscription& s, bool is_create) {
        auto endpoint_id = body.id("endpoint_id");
        if (!endpoint_id) endpoint_id = body.id("webhook_id");  // the older name, still sent by some clients
        if (endpoint_id) {
            if (!store_.find_endpoint(company, *endpoint_id, std::nullopt))
                fail(400, "field 'endpoint_id' names no websocket or webhook of this company: " +
                              std::to_string(*endpoint_id),
                     "invalid");
            s.endpoint_id = *endpoint_id;
        } else if (is_create) {
            fail(400, "field 'endpoint_id' is required: the id of a websocket or webhook", "required");
        }
        if (auto const enabled = body.boolean("enabled")) s.enabled = *enabled;

        if (kind == subscription_kind::call || kind == subscription_kind::sms) {
            auto const target_type = body.choice("target_type", k_target_types);
            auto const target_id = body.id("target_id");
            if (target_type) s.target_type = target_type;
            if (target_id) s.target_id = target_id;
            if (s.target_type.has_value() != s.target_id.has_value())
                fail(400, "fields 'target_type' and 'target_id' must be given together", "invalid");
        }
        switch (kind) {
        case subscription_kind::call:
            if (auto const states = body.call_states("call_states")) s.call_states = *states;
            else if (is_create) s.call_states = {"all"};
            if (auto const group = body.boolean("group_calls_only")) s.group_calls_only = *group;
            break;
        case subscription_kind::sms:
            if (auto const direction = body.choice("direction", k_sms_directions)) s.direction = *direction;
            else if (is_create) fail(400, "field 'direction' is required: one of " + one_of(k_sms_directions), "required");
            if (auto const internal = body.boolean("include_internal")) s.include_internal = *internal;
            if (auto const status = body.boolean("status")) s.status = *status;
            break;
        case subscription_kind::contact:
            // The spec requires contact_type on update as well as create.
            if (auto const type = body.choice("contact_type", k_contact_types)) s.contact_type = *type;
            else fail(400, "field 'contact_type' is required: one of " + one_of(k_contact_types), "required");
            break;
        case subscription_kind::agent_status:
            if (auto const type = body.choice("agent_type", k_agent_types)) s.agent_type = *type;
            else if (is_create) fail(400, "field 'agent_type' is required: callcenter", "required");
            break;
        case subscription_kind::changelog: break;
        }
    };

    if (!r.id_text) {
        if (request.method == "GET") {
            auto const limit = page_size(request);
            auto const after = decode_cursor(request.query_value("cursor"));
            std::optional<std::string> target_type;
            std::optional<std::int64_t> target_id;
            if (auto const t = request.query_value("target_type")) {
                if (std::find(k_target_types.begin(), k_target_types.end(), *t) == k_target_types.end())
                    fail(400, "parameter 'target_type' must be one of: " + one_of(k_target_types), "invalid");
                target_type = *t;
            }
            if (auto const t = request.query_value("target_id")) {
                target_id = parse_id(*t);
                if (!target_id) fail(400, "parameter 'target_id' must be an int64 id", "invalid");
            }
            return page(store_.list_subscriptions(company, kind, after, limit + 1, target_type, target_id), limit,
                        render);
        }
        body_reader const body{request};
        subscription s;
        s.kind = kind;
        s.company = company;
        apply_body(body, s, true);
        if (store_.count_subscriptions(company, kind, false) >= k_max_subscriptions_per_kind)
            fail(400, "this company already has " + std::to_string(k_max_subscriptions_per_kind) + " " + kind_name +
                          " event subscriptions, the most Dialpad allows",
                 "limitExceeded");
        if (!s.target_id &&
            store_.count_subscriptions(company, kind, true) >= k_max_company_wide_subscriptions_per_kind)
            fail(400, "this company already has " + std::to_string(k_max_company_wide_subscriptions_per_kind) + " " +
                          kind_name + " event subscriptions for the whole company, the most Dialpad allows",
                 "limitExceeded");
        s.id = store_.next_id();
        return ok(render(store_.add_subscription(std::move(s))));
    }

    auto const id = parse_id(*r.id_text);
    auto* found = id ? store_.find_subscription(company, kind, *id) : nullptr;
    if (!found) fail(404, kind_name + " event subscription " + *r.id_text + " not found", "notFound");
    if (request.method == "GET") return ok(render(*found));
    if (request.method == "PATCH") {
        body_reader const body{request};
        auto updated = *found;  // validate fully before changing anything
        apply_body(body, updated, false);
        *found = std::move(updated);
        return ok(render(*found));
    }
    auto const body = render(*found);
    store_.remove_subscription(*id);
    return ok(body);
}

}  // namespace harness::mock
