#include "mockserver/event_router.hpp"

#include <simdjson.h>

#include <charconv>

#include <algorithm>

namespace harness::mock {
namespace {

// simdjson: a validating SIMD parse (kernel chosen at run time) that reads
// only the fields routing needs; it keeps routing cheap next to the sends.
std::string text_of(simdjson::dom::object object, char const* key) {
    std::string_view value;
    if (object[key].get_string().get(value)) return {};
    return std::string{value};
}

std::optional<std::int64_t> id_of(simdjson::dom::object object, char const* key) {
    auto const element = object[key];
    std::int64_t number = 0;
    if (!element.get_int64().get(number)) return number;
    std::string_view text;
    if (!element.get_string().get(text)) {
        std::int64_t parsed = 0;
        auto const [end, error] = std::from_chars(text.data(), text.data() + text.size(), parsed);
        if (error == std::errc{} && end == text.data() + text.size()) return parsed;
    }
    return std::nullopt;
}

}  // namespace

bool is_json_object(std::string_view json_text) {
    thread_local simdjson::dom::parser parser;
    simdjson::dom::element document;
    return !parser.parse(json_text.data(), json_text.size()).get(document) && document.is_object();
}

std::optional<event_facts> read_event_facts(subscription_kind family, std::string const& json_text) {
    // Parsed in place when the string has room for simdjson's padding
    // (events read from admin batches do), copied otherwise.
    if (json_text.capacity() - json_text.size() < simdjson::SIMDJSON_PADDING) {
        std::string padded;
        padded.reserve(json_text.size() + simdjson::SIMDJSON_PADDING);
        padded.assign(json_text);
        return read_event_facts(family, padded);
    }
    thread_local simdjson::dom::parser parser;
    simdjson::dom::element document;
    simdjson::dom::object event;
    if (parser.parse(json_text.data(), json_text.size(), false).get(document) || document.get_object().get(event))
        return std::nullopt;
    event_facts facts;
    facts.family = family;
    facts.state = text_of(event, "state");
    facts.direction = text_of(event, "direction");
    facts.message_status = text_of(event, "message_status");
    bool internal = false;
    if (!event["is_internal"].get_bool().get(internal)) facts.is_internal = internal;
    simdjson::dom::object target;
    if (!event["target"].get_object().get(target)) {
        facts.target_type = text_of(target, "type");
        facts.target_id = id_of(target, "id");
    }
    simdjson::dom::object contact;
    if (!event["contact"].get_object().get(contact)) facts.contact_type = text_of(contact, "type");
    // A group call reached a department, office or call center first: its
    // legs carry the group or the entry point.
    std::string_view group;
    bool const has_group = !event["group_id"].get_string().get(group);
    auto const entry = event["entry_point_call_id"];
    bool const has_entry = entry.error() == simdjson::SUCCESS && !entry.is_null();
    facts.is_group_call = has_group || has_entry || (!facts.target_type.empty() && facts.target_type != "user");
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

bool any_websocket_subscription_matches(resource_store const& store, event_facts const& event) {
    for (auto const& [id, s] : store.subscriptions()) {
        auto const endpoint = store.endpoints().find(s.endpoint_id);
        if (endpoint == store.endpoints().end() || endpoint->second.type != endpoint_type::websocket) continue;
        if (subscription_matches(s, event)) return true;
    }
    return false;
}

}  // namespace harness::mock
