#include "mockserver/event_router.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace harness::mock {
namespace {

std::string text_of(nlohmann::json const& object, char const* key) {
    auto const it = object.find(key);
    return it != object.end() && it->is_string() ? it->get<std::string>() : std::string{};
}

std::optional<std::int64_t> id_of(nlohmann::json const& object, char const* key) {
    auto const it = object.find(key);
    if (it == object.end()) return std::nullopt;
    if (it->is_number_integer()) return it->get<std::int64_t>();
    if (it->is_string()) {
        try {
            return std::stoll(it->get<std::string>());
        } catch (...) {
            return std::nullopt;
        }
    }
    return std::nullopt;
}

}  // namespace

std::optional<event_facts> read_event_facts(subscription_kind family, std::string_view json_text) {
    auto const event = nlohmann::json::parse(json_text, nullptr, false);
    if (!event.is_object()) return std::nullopt;
    event_facts facts;
    facts.family = family;
    facts.state = text_of(event, "state");
    facts.direction = text_of(event, "direction");
    facts.message_status = text_of(event, "message_status");
    if (auto const internal = event.find("is_internal"); internal != event.end() && internal->is_boolean())
        facts.is_internal = internal->get<bool>();
    if (auto const target = event.find("target"); target != event.end() && target->is_object()) {
        facts.target_type = text_of(*target, "type");
        facts.target_id = id_of(*target, "id");
    }
    if (auto const contact = event.find("contact"); contact != event.end() && contact->is_object())
        facts.contact_type = text_of(*contact, "type");
    // A group call reached a department, office or call center first: its
    // legs carry the group or the entry point.
    auto const group = event.find("group_id");
    auto const entry = event.find("entry_point_call_id");
    facts.is_group_call = (group != event.end() && group->is_string()) ||
                          (entry != event.end() && !entry->is_null()) ||
                          (facts.target_type != "" && facts.target_type != "user");
    return facts;
}

bool subscription_matches(subscription const& s, event_facts const& event) {
    if (!s.enabled || s.kind != event.family) return false;
    auto const target_ok = [&] {
        if (!s.target_type || !s.target_id) return true;
        return event.target_type == *s.target_type && event.target_id == s.target_id;
    };
    switch (s.kind) {
    case subscription_kind::call: {
        bool const state_ok = std::find(s.call_states.begin(), s.call_states.end(), "all") != s.call_states.end() ||
                              std::find(s.call_states.begin(), s.call_states.end(), event.state) != s.call_states.end();
        return state_ok && target_ok() && (!s.group_calls_only || event.is_group_call);
    }
    case subscription_kind::sms: {
        bool const direction_ok = s.direction == "all" || s.direction == event.direction;
        bool const internal_ok = s.include_internal || !event.is_internal;
        // Without `status`, only the first event of a message (pending) is sent,
        // not its delivery-status follow-ups.
        bool const status_ok = s.status || event.message_status.empty() || event.message_status == "pending";
        return direction_ok && internal_ok && status_ok && target_ok();
    }
    case subscription_kind::contact: return event.contact_type.empty() || event.contact_type == s.contact_type;
    case subscription_kind::agent_status:
    case subscription_kind::changelog: return true;
    }
    return false;
}

}  // namespace harness::mock
