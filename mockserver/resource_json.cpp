#include "mockserver/resource_json.hpp"

namespace harness::mock {

ordered_json signature_json(std::optional<std::string> const& secret) {
    if (!secret) return ordered_json::object();
    ordered_json signature;
    signature["algo"] = "HS256";
    signature["secret"] = *secret;  // Dialpad echoes the secret in clear
    signature["type"] = "jwt";
    return signature;
}

resource_renderer::resource_renderer(token_service const& tokens, std::string events_base)
    : tokens_{tokens}, events_base_{std::move(events_base)} {}

ordered_json resource_renderer::websocket_with_scope(endpoint const& e, std::string const& scope) const {
    ordered_json j;
    j["id"] = std::to_string(e.id);
    j["signature"] = signature_json(e.secret);
    j["websocket_url"] = events_base_ + tokens_.mint(scope);
    return j;
}

ordered_json resource_renderer::websocket(endpoint const& e) const { return websocket_with_scope(e, websocket_scope(e.id)); }

ordered_json resource_renderer::webhook(endpoint const& e) const {
    ordered_json j;
    j["hook_url"] = e.hook_url;
    j["id"] = std::to_string(e.id);
    j["signature"] = signature_json(e.secret);
    return j;
}

ordered_json resource_renderer::subscription(struct subscription const& s, endpoint const& e) const {
    auto const optional_id = [](std::optional<std::int64_t> v) {
        return v ? ordered_json(std::to_string(*v)) : ordered_json(nullptr);
    };
    auto const optional_text = [](std::optional<std::string> const& v) {
        return v ? ordered_json(*v) : ordered_json(nullptr);
    };
    ordered_json j;
    switch (s.kind) {
    case subscription_kind::call:
        j["call_states"] = s.call_states;
        j["enabled"] = s.enabled;
        j["group_calls_only"] = s.group_calls_only;
        j["id"] = std::to_string(s.id);
        j["target_id"] = optional_id(s.target_id);
        j["target_type"] = optional_text(s.target_type);
        break;
    case subscription_kind::sms:
        j["direction"] = s.direction;
        j["enabled"] = s.enabled;
        j["id"] = std::to_string(s.id);
        j["include_internal"] = s.include_internal;
        j["status"] = s.status;
        j["target_id"] = optional_id(s.target_id);
        j["target_type"] = optional_text(s.target_type);
        break;
    case subscription_kind::contact:
        j["contact_type"] = s.contact_type;
        j["enabled"] = s.enabled;
        j["id"] = std::to_string(s.id);
        break;
    case subscription_kind::agent_status:
        j["agent_type"] = s.agent_type;
        j["enabled"] = s.enabled;
        j["id"] = std::to_string(s.id);
        break;
    case subscription_kind::changelog:
        j["enabled"] = s.enabled;
        j["id"] = std::to_string(s.id);
        break;
    }
    if (e.type == endpoint_type::websocket)
        j["websocket"] = websocket_with_scope(e, subscription_scope(e.id, to_string(s.kind), s.id));
    else
        j["webhook"] = webhook(e);
    return j;
}

}  // namespace harness::mock
