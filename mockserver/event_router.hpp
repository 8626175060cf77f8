#pragma once
// Which subscriptions an event reaches, by the filters Dialpad documents:
// call_states (with `all`), target_type/target_id, group_calls_only; SMS
// direction, include_internal and status; contact_type; agent_type; enabled.

#include "mockserver/resource_store.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace harness::mock {

// The fields routing looks at, read once from an event's JSON.
struct event_facts {
    subscription_kind family = subscription_kind::call;
    std::string state;            // call state
    std::string direction;        // call / sms
    std::string target_type;
    std::optional<std::int64_t> target_id;
    bool is_internal = false;     // sms between two users of the company
    bool is_group_call = false;   // call to a department, office, call center...
    std::string message_status;   // sms: "pending" on the first event
    std::string contact_type;     // contact events: contact.type
};

// Reads the facts of an event of `family` from its JSON text; nullopt when
// the text is not a JSON object.
std::optional<event_facts> read_event_facts(subscription_kind family, std::string const& json_text);

// True when `json_text` is one well-formed JSON object (a fast SIMD check).
bool is_json_object(std::string_view json_text);

// True when subscription `s` (enabled, of the event's family) lets it through.
bool subscription_matches(subscription const& s, event_facts const& event);

// True when some subscription of a websocket (any company) lets the event
// through, whether or not a connection is open: a replay skips, and counts,
// the events no subscription would carry.
bool any_websocket_subscription_matches(resource_store const& store, event_facts const& event);

}  // namespace harness::mock
